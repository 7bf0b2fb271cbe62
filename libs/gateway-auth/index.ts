export { credentialKey, gatewayUsername, identityOf, parseGatewayUsername, type GatewayIdentity, type GatewayLookup } from './gateway-identity.js';
export { gatewayTopics, publishRefusal } from './topic-access.js';
export { isMosquittoHash, mosquittoHash, verifyMosquittoHash } from './mosquitto-hash.js';
export { CredentialsFileError, writeFileAtomically, type CredentialEntry } from './credentials-file.js';
export {
  GatewayCredentials,
  MIN_PASSWORD_LENGTH,
  PasswordTooShort,
  type CheckOutcome,
  type CredentialState,
  type CredentialView,
  type GatewayCredentialsOptions,
} from './credentials.store.js';
export { GatewayAuthority, type Authentication } from './gateway-authority.js';
export { mosquittoFiles, type MosquittoFiles, type MosquittoFilesInput } from './mosquitto-files.js';
