// The SMS tables of the store (schema step 4): the messages of the console and the outbox,
// the message reference of every sent part with its status report, and every received
// PDU kept before the modem's copy is deleted. All the SQL of the SMS layer lives here; it
// runs on a Store's connection (Store::database()), on that connection's thread. Every
// write is one transaction: once a call returns true the change is on disk.
#pragma once

#include "store/store.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <optional>

namespace td::sms {

enum class Direction { Received = 0, Sent = 1 };
enum class Channel { Sms, Gprs };
enum class State { Queued, Sending, Sent, Delivered, Failed, Received };

QString channelName(Channel c);          // "sms", "gprs"
std::optional<Channel> channelFromName(const QString &name);
QString stateName(State s);              // "queued", "sending", ...
std::optional<State> stateFromName(const QString &name);

struct PartReference {
    int part = 0;                        // 0-based
    int reference = -1;                  // TP-MR the modem answered (+CMGS)
    std::optional<int> status;           // TP-ST of its status report, nullopt: none yet
    QDateTime reportTime;                // UTC
};

struct Message {
    qint64 id = 0;
    Direction direction = Direction::Sent;
    qint64 deviceId = 0;                 // 0: the number matches no device
    QString number;                      // normalised (+CC... when international)
    QString text;
    Channel channel = Channel::Sms;
    State state = State::Queued;
    QDateTime created;                   // queued / stored, UTC
    QDateTime sent;                      // accepted by the modem / the GPRS link
    QDateTime done;                      // delivered / failed
    QDateTime scts;                      // received: the SMS centre's time stamp (with its offset)
    int parts = 1;
    QString error;                       // failure reason, or a note (retrying, incomplete)
    int attempts = 0;
    QDateTime nextAttempt;               // queued: not before (back-off); invalid: now
    QList<QByteArray> pdus;              // binary PDUs as sent / received
    qint64 replyTo = 0;                  // a GPRS reply: the command row it answers
    int positions = 0;                   // fixes found in the text (stored with source sms)
    QList<PartReference> references;     // sent SMS: one per part once the modem took them
};

struct MessageFilter {
    std::optional<qint64> deviceId;      // 0: messages of no device
    QString number;                      // matched with numberMatch (any form)
    std::optional<Direction> direction;
    qint64 beforeId = 0;                 // paging: ids below this (0: from the newest)
    int limit = 500;                     // <= 0: all
};

// One received PDU as kept in sms_inbox_parts.
struct InboxPart {
    qint64 id = 0;
    QByteArray pdu;                      // SMSC field first, as the modem printed it
    QDateTime received;                  // UTC
    QString number;
    QString memory;                      // modem storage ("SM", "ME"); empty: delivered directly
    int slot = -1;
    qint64 messageId = 0;                // 0: waiting for the rest of its message
};

class SmsStore {
public:
    explicit SmsStore(store::Store &store) : m_store(store) {}
    QString lastError() const { return m_error; }

    // ---- messages ----
    // Inserts a message as given (id ignored) with its references; returns the id, 0 on error.
    qint64 insert(const Message &message);
    // Received message and the parts it was joined from, in one transaction.
    qint64 insertReceived(const Message &message, const QList<qint64> &partIds);
    std::optional<Message> message(qint64 id);
    // Newest first.
    QList<Message> messages(const MessageFilter &filter);
    // Devices and numbers that have messages, with the newest message time (for the console list).
    struct Conversation { qint64 deviceId = 0; QString number; QDateTime last; int count = 0; };
    QList<Conversation> conversations();

    // ---- the outbox (channel sms) ----
    // The oldest queued SMS whose back-off is over at nowMs.
    std::optional<Message> nextDue(qint64 nowMs);
    // Earliest next_attempt among queued SMS still backing off (for the timer).
    std::optional<qint64> nextAttemptAfter(qint64 nowMs);
    int countInState(State s, std::optional<Channel> channel = std::nullopt);
    // queued -> sending, attempts + 1, the PDUs about to be sent.
    bool markSending(qint64 id, const QList<QByteArray> &pdus, qint64 nowMs);
    // sending -> sent with the modem's references.
    bool markSent(qint64 id, const QList<int> &references, qint64 nowMs);
    // -> queued again, not before nextMs; the reason kept as a note.
    bool requeue(qint64 id, const QString &reason, qint64 nextMs);
    bool markFailed(qint64 id, const QString &reason, qint64 nowMs);
    bool markDelivered(qint64 id, qint64 nowMs, const QString &note = {});
    bool setState(qint64 id, State state, const QString &note, qint64 nowMs);
    // At start: messages left in "sending" by a crash or an unplugged modem go back to the
    // queue (the modem may or may not have sent them; resending beats losing). Returns how many.
    int recoverInterrupted(qint64 nowMs);

    // ---- status reports ----
    // Sent SMS parts with this TP-MR not yet finally reported, newest first, created after sinceMs.
    struct RefCandidate { qint64 messageId = 0; int part = 0; QString number; };
    QList<RefCandidate> findReference(int reference, qint64 sinceMs);
    bool setPartStatus(qint64 messageId, int part, int tpStatus, qint64 reportMs);

    // ---- received parts ----
    enum class PartResult { New, Duplicate, Error };
    // Stores a received PDU unless the same bytes are already there (*existing then set).
    PartResult insertPart(const InboxPart &part, qint64 *id, InboxPart *existing = nullptr);
    QList<InboxPart> waitingParts();
    bool setPositions(qint64 id, int count);
    // The newest command sent over GPRS to a device and not yet answered (for replies).
    std::optional<qint64> lastOpenGprsCommand(qint64 deviceId, qint64 sinceMs);

private:
    bool fail(const QString &what, const QString &error);
    bool loadReferences(Message &m);
    store::Store &m_store;
    QString m_error;
};

} // namespace td::sms
