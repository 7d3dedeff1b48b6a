export { openTelemetry, type ServerTelemetry } from './install.js';
export { TELEMETRY_NAME } from './instruments.js';
