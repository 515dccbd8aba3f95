export { apiKeys, AUTH_MESSAGES, NO_AUTH, type ApiKeys } from './api-keys.js';
export { assertSafeBind, isLoopback } from './bind-safety.js';
export { clientAddressResolver, normalizeAddress, type ClientAddressOf } from './client-address.js';
export { CLIENT_ADDRESS, connectContextValues, securityInterceptor } from './connect.js';
export { RateLimiter, type Admission, type RateLimitOptions } from './rate-limiter.js';
export { connectCors, corsPolicy, EXPOSED_HEADERS, type CorsPolicy } from './cors.js';
export { clientOf, rateLimit, requireApiKey, restCors } from './rest.js';
export { createSecurity, type Security } from './security.js';
export { guardRequestOrigin, requestOriginOf, requestOriginPolicy, type Refusal, type RequestOrigin, type RequestOriginPolicy } from './request-origin.js';
