export * from './errors';
export * from './events';
export * from './lifecycle';
export * from './rooms';
export * from './schemas';
export * from './wire';
export * from './chat';
export * from './discovery';
