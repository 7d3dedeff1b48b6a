export {
  buildProviderConfiguration,
  INSTANCE_POLICY,
  type ProviderWiring,
  staticClients,
} from './configuration.js';
