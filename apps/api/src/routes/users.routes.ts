import { Router } from 'express';
import type { Services } from '@mm/core';
import { callerId } from '../http/authenticate';

export function userRoutes({ users }: Services): Router {
  return Router()
    .put('/api/users/me', async (req, res) => {
      res.json(await users.saveProfile(callerId(res), req.body));
    })
    .get('/api/users/me', async (_req, res) => {
      res.json(await users.getProfile(callerId(res)));
    });
}
