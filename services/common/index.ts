/** Shared scaffolding for Sluice's HTTP services. */
export { createService, type ServiceOptions } from './create-service.js';
export { principalOf, RouteWithoutRoleError, INSECURE_PRINCIPAL } from './auth.js';
export { AuditLog, AuditLogCorruptError, auditLogPath, verifyAuditLog } from './audit-log.js';
export type { AuditInput, AuditRecord, AuditVerification } from './audit-log.js';
export { HttpError, type ErrorBody } from './http-errors.js';
export type { ReadinessCheck, CheckResult } from './health.js';
export { hasRole, isRole, ROLES, type Role } from './roles.js';
export type { Principal } from './token-verifier.js';
export { AuthConfigError, loadAuthConfig, parseTokenFile, parseTokenList } from './tokens.js';
export type { AuthConfig, TokenEntry } from './tokens.js';
