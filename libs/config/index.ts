export { ConfigError } from './config-error.js';
export { loadEnvConfig, type AppConfig } from './env.config.js';
export { loadSiteFiles, type LoadedSiteFile, type SiteFile } from './sites.config.js';
