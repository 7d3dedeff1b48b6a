import { describeJourney } from './journey.js';

describeJourney('the in-memory store');
