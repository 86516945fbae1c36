export { apiRoutes, createApi, type ApiDeps } from './app';
export type { AnyRouteSpec } from './http/route-table';
