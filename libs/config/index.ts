export { ConfigError } from './config-error.js';
export { isDemoRegistry, loadEnvConfig, type AppConfig, type AuthConfig, type MqttAuthConfig, type OidcConfig } from './env.config.js';
export { readSiteFiles, type LoadedSiteFile, type SiteFile } from './sites.config.js';
export { loadProfileFiles, type LoadedProfileFile, type ProfileFile } from './profiles.config.js';
export { loadEscalationPolicy, DEFAULT_ESCALATION } from './escalation.config.js';
export { loadRiskWeights, DEFAULT_RISK_WEIGHTS } from './risk.config.js';
export { loadNotifyPolicy } from './notify.config.js';
