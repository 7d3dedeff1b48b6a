export { accountInstancesIndex, instanceClientAdapter } from './client-records.js';
export { type AdminAuthSettings, createAdminApi, createSelfService } from './http.js';
export {
  InstanceManager,
  type InstanceManagerSettings,
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
  FirstPartySignIn,
  InstanceEvent,
  InstanceEvents,
  InstanceInfo,
  InstancePage,
  InstancePageOptions,
  InstanceStatus,
  RevocationEvent,
  RevokedBy,
} from './types.js';
