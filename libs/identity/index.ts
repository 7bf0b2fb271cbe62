export { IdentityStore, MIN_PASSWORD_LENGTH, PasswordTooShort, type IdentityOptions, type LoginOutcome } from './identity.store.js';
export { foldUsername, usernameProblem } from './username.js';
export { describeJurisdiction, jurisdictionSchema, jurisdictionWithin, parseJurisdiction, regionContains } from './jurisdiction.js';
