export { ConfigError } from './config-error.js';
export { loadEnvConfig, type AppConfig } from './env.config.js';
export { loadSiteFiles, type LoadedSiteFile, type SiteFile } from './sites.config.js';
export { loadProfileFiles, type LoadedProfileFile, type ProfileFile } from './profiles.config.js';
export type { LoadResult } from './yaml-files.js';
