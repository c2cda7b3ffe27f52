// Authentication and authorization as etcd 3.4 does them: a pure core (store,
// permissions, tokens) plus the two computations it delegates (bcrypt, JWT).

export { AuthError, type AuthErrorKind, authError } from './errors.js';
export { type JwtKeyMaterial, JwtTokens, jwtPayload } from './jwt.js';
export {
  ADMIN_OPS,
  type AuthOp,
  type AuthOpRequests,
  type AuthOpResults,
  type AuthOpType,
  type AuthOutcome,
  type InternalAuthenticateRequest,
  resultOf,
} from './ops.js';
export { BCRYPT_DEFAULT_COST, bcryptHasher, effectiveBcryptCost, type PasswordHasher } from './password.js';
export {
  affineCompare,
  IntervalSet,
  type KeyInterval,
  permissionInterval,
  pointInterval,
  UserPermissions,
} from './permissions.js';
export * from './records.js';
export {
  ANONYMOUS,
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  checkWatchCreate,
} from './request-checks.js';
export {
  DEFAULT_SIMPLE_TOKEN_TTL_MS,
  type RandomBytes,
  SimpleTokens,
  simpleTokenIndex,
  simpleTokenPrefix,
} from './simple-tokens.js';
export {
  type AuthInfo,
  AuthStore,
  EMPTY_PERMISSION,
  type PasswordHash,
  ROOT_ROLE,
  ROOT_USER,
} from './store.js';
export {
  type JwtOptions,
  type JwtSignMethod,
  parseAuthTokenOption,
  parseJwtOptions,
  type TokenOptions,
  type TokenType,
} from './token-options.js';
export { type Now, TokenProvider } from './tokens.js';
