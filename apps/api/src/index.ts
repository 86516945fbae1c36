export { apiRoutes, createApi, type ApiDeps } from './app';
export { loadApiConfig, type ApiConfig } from './config';
export type { AnyRouteSpec } from './http/route-table';
