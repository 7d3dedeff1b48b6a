export { accountInstancesIndex, instanceClientAdapter } from './client-records.js';
export { type AdminAuthSettings, createAdminApi, createSelfService } from './http.js';
export { DeviceManager, type DeviceManagerSettings } from './manager.js';
export type {
  BindingEvent,
  DeviceEvent,
  DeviceEvents,
  DeviceInfo,
  RevocationEvent,
  RevokedBy,
} from './types.js';
