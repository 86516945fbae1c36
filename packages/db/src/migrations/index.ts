import type { Migration } from 'kysely/migration';
import * as initial from './20261123T000000_initial';
import * as dailyMatchCounts from './20261123T123500_daily_match_counts';
import * as userPhotos from './20261123T140000_user_photos';
import * as appendMessages from './20261123T150000_append_messages';
import * as perSideMessageCounts from './20261129T060000_per_side_message_counts';
import * as candidateIndexes from './20261129T093000_candidate_indexes';
import * as pushNotifications from './20261129T100000_push_notifications';
import * as unsendAndDelivery from './20261129T101000_unsend_and_delivery';
import * as identitiesEntitlements from './20261129T102000_identities_entitlements';
import * as moderationDesk from './20261129T104000_moderation_desk';
import * as cityStatistics from './20261129T110000_city_statistics';
import * as messagePushNeedsADevice from './20261129T120000_message_push_needs_a_device';
import * as messagesWithoutForeignKeys from './20261129T121000_messages_without_foreign_keys';
import * as messagePushInAppendMessages from './20261129T140000_message_push_in_append_messages';
import * as candidateGenderIndex from './20261129T150000_candidate_gender_index';
import * as findMatchFunctions from './20261129T170000_find_match_functions';
import * as unreadInMatch from './20261129T180000_unread_in_match';
import * as connectingFunctions from './20261129T190000_connecting_functions';

// Listed statically (not read from a folder) so sources and compiled output both work.
// Names sort by timestamp: kysely runs them in that order.
export const migrations: Record<string, Migration> = {
  '20261123T000000_initial': initial,
  '20261123T123500_daily_match_counts': dailyMatchCounts,
  '20261123T140000_user_photos': userPhotos,
  '20261123T150000_append_messages': appendMessages,
  '20261129T060000_per_side_message_counts': perSideMessageCounts,
  '20261129T093000_candidate_indexes': candidateIndexes,
  '20261129T100000_push_notifications': pushNotifications,
  '20261129T101000_unsend_and_delivery': unsendAndDelivery,
  '20261129T102000_identities_entitlements': identitiesEntitlements,
  '20261129T104000_moderation_desk': moderationDesk,
  '20261129T110000_city_statistics': cityStatistics,
  '20261129T120000_message_push_needs_a_device': messagePushNeedsADevice,
  '20261129T121000_messages_without_foreign_keys': messagesWithoutForeignKeys,
  '20261129T140000_message_push_in_append_messages': messagePushInAppendMessages,
  '20261129T150000_candidate_gender_index': candidateGenderIndex,
  '20261129T170000_find_match_functions': findMatchFunctions,
  '20261129T180000_unread_in_match': unreadInMatch,
  '20261129T190000_connecting_functions': connectingFunctions,
};
