import type { Cluster, Redis } from 'ioredis';

/** A connection to a single Redis or to a Redis Cluster; every use in the domain works on both. */
export type RedisClient = Redis | Cluster;
