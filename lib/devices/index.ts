export { accountInstancesIndex, instanceClientAdapter } from './client-records.js';
export { type AdminAuthSettings, createAdminApi, createSelfService } from './http.js';
export {
  DeviceManager,
  type DeviceManagerSettings,
  InvalidPageRequest,
} from './manager.js';
export type {
  BindingEvent,
  DeviceEvent,
  DeviceEvents,
  DeviceInfo,
  DevicePage,
  DevicePageOptions,
  DeviceStatus,
  RevocationEvent,
  RevokedBy,
} from './types.js';
