import { Router } from 'express';
import { devTokenRequest } from '@mm/client/contract';
import type { TokenService } from '@mm/core';

/** Development tokens: mounted only when DEV_TOKENS is on (the embedded default). */
export function devTokenRoutes(tokens: TokenService): Router {
  return Router().post('/api/auth/dev-token', (req, res) => {
    const { user_id } = devTokenRequest.parse(req.body);
    res.json({ token: tokens.sign(user_id) });
  });
}
