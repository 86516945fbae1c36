export { startEmbedded, type EmbeddedService } from './embedded';
