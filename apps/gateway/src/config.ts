import { loadAppConfig, type AppConfig } from '@mm/platform';

/** The gateway pod's configuration: the shared variables, required as in scaled mode. */
export type GatewayConfig = AppConfig;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadAppConfig('scaled', env);
}
