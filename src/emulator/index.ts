export {
  createEmulator,
  NO_CHAOS,
  type ChaosSettings,
  type Emulator,
  type EmulatorOptions,
} from "./emulator";
export type { EmulatorUsers, NotifyOption, UpgradeInput } from "./users";
export type { EmulatedUser, CreateUserInput, UpdateUserInput } from "./user-model";
export {
  SVIX_RETRY_SCHEDULE_MS,
  SVIX_ATTEMPT_TIMEOUT_MS,
  type DeliveryAttempt,
  type EmittedEvent,
  type Endpoint,
} from "./webhooks";
export { randomOperation, randomPerson, seedUsers, type OperationKind } from "./activity";
export { seededRandom, type Random } from "./random";
