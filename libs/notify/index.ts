export { Notifier, type NotifierDeps, type NotifierHealth } from './notifier.js';
export { ChannelError, channelOf, dingTalkSign, webhookSignature, type Channel } from './channels.js';
export { decide } from './routing.js';
export { onDuty, localTime } from './roster.js';
export { alarmMessage, summaryMessage } from './message.js';
