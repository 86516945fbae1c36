import { loadAppConfig, type AppConfig } from '@mm/platform';

/** The API pod's configuration: the shared variables, required as in scaled mode. */
export type ApiConfig = AppConfig;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return loadAppConfig('scaled', env);
}
