export {
  stackUserSchema,
  stackDeletedUserSchema,
  webhookEnvelopeSchema,
  isUserEventType,
  USER_EVENT_TYPES,
  type StackUser,
  type StackDeletedUser,
  type UserEvent,
  type UserEventType,
} from "./schema";
