export * from './errors';
export * from './events';
export * from './rooms';
export * from './schemas';
export * from './wire';
