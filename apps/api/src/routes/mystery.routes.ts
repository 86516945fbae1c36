import { Router } from 'express';
import { findMatchRequest, historyQuery, matchParams, userParams } from '@mm/client/contract';
import type { Services } from '@mm/core';
import { assertSelf, callerId } from '../http/authenticate';

/** The match lifecycle and chat history, at the seed API's paths. */
export function mysteryRoutes({ matches, messages }: Services): Router {
  return Router()
    .post('/api/mystery/find-match', async (req, res) => {
      const body = findMatchRequest.parse(req.body);
      assertSelf(res, body.user_id);
      res.status(201).json({ match: await matches.findMatch(body.user_id) });
    })
    .get('/api/mystery/my-matches/:user_id', async (req, res) => {
      const { user_id } = userParams.parse(req.params);
      assertSelf(res, user_id);
      res.json({ matches: await matches.listMatches(user_id) });
    })
    .get('/api/mystery/chat/:match_id', async (req, res) => {
      const { match_id } = matchParams.parse(req.params);
      res.json(await messages.history(callerId(res), match_id, historyQuery.parse(req.query)));
    });
}
