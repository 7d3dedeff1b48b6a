// The attested test server process that test/attestation/two-processes.system.test.ts spawns:
// server-process.ts, which adds the test-ca template when TEST_CA_ROOT is set.
import './server-process.js';
