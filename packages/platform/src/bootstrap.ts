import type { DomainDeps } from '@mm/core';
import type { AppConfig } from './config/env';

/** The part of `DomainDeps` read straight off the app's configuration, the same for every app. */
export function domainSettings(
  config: AppConfig,
): Pick<DomainDeps, 'jwtSecret' | 'rules' | 'keyPrefix'> {
  return { jwtSecret: config.auth.jwtSecret, rules: config.rules, keyPrefix: config.keyPrefix };
}
