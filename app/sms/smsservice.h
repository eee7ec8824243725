// SmsService: the SMS side of TrackerDesk. It owns the GSM modem engine (optional), the
// durable outbox and the inbox, and talks to trackers by SMS or, when a tracker is online,
// by the same text command over GPRS.
//
// Messages are never lost:
//   * sending: a message is stored "queued" before anything else happens; it is handed to
//     the modem one at a time while the modem is Ready ("sending"), then "sent" with the
//     modem's message references, then "delivered"/"failed" by the status reports. Transient
//     errors put it back in the queue with an exponential back-off; a restart, an unplugged
//     modem or a crash while "sending" puts it back too (resent rather than lost).
//   * receiving: every PDU the modem reports is stored (deduplicated by its bytes) before
//     the modem's copy is deleted; concatenated parts wait in the store until the message is
//     complete (or the reassembly timeout delivers what is there, marked incomplete).
// Received texts are matched to devices by their SIM phone number; positions in them become
// fixes with source sms (TrackerService::addDerivedPositions, so they reach the map).
#pragma once

#include "modem/modemengine.h"
#include "sms/modemlog.h"
#include "sms/smsstore.h"

#include "trackerdesk/protocol/smspdu.h"

#include <QJsonObject>
#include <QObject>
#include <QTimer>
#include <memory>

namespace td {
class AppSettings;
class TrackerService;
}

namespace td::sms {

struct SmsConfig {
    modem::ModemConfig modem;            // port empty: no modem (messages stay queued)
    int maxAttempts = 8;                 // modem attempts per message before "failed"
    int firstRetryMs = 30 * 1000;        // back-off after a transient error, doubling
    int maxRetryMs = 30 * 60 * 1000;
    qint64 reassemblyTimeoutMs = 10 * 60 * 1000;  // deliver an incomplete message after this
    int expireCheckMs = 10 * 1000;       // how often the reassembly timeout is checked
    int reportWindowDays = 7;            // status reports match messages sent this recently
    int gprsReplyWindowMs = 10 * 60 * 1000;  // a GPRS reply answers a command this recent
    bool requestStatusReport = true;
    int maxParts = 10;                   // longer texts are refused
};

enum class ChannelChoice { Auto, Sms, Gprs };
QString channelChoiceName(ChannelChoice c);
std::optional<ChannelChoice> channelChoiceFromName(const QString &name);

struct SendResult {
    qint64 id = 0;                       // 0: refused, see error
    Channel channel = Channel::Sms;      // the channel used
    State state = State::Queued;
    QString to;                          // "Cat (8647...)" or the number
    QString error;
    QString note;                        // what happens next ("queued: no modem configured ...")
    bool ok() const { return id > 0; }
};

// Modem settings: port and baud in the settings file (modem/port, modem/baud); the SIM PIN
// in a file of its own readable only by the user (<data folder>/modem-pin), never in the
// settings file and never logged.
struct ModemSettings {
    QString port;
    qint32 baud = 115200;
    QString pin;
};
ModemSettings loadModemSettings(AppSettings &settings, const QString &dataDir, QStringList *problems = nullptr);
bool saveModemSettings(AppSettings &settings, const QString &dataDir, const ModemSettings &modem, QString *error);

// The SMS configuration of a start: the settings' modem (modem/port, modem/baud, the PIN
// file) unless --modem names another port (then the stored PIN is used only if it is for
// that same port).
SmsConfig smsConfig(AppSettings &settings, const QString &modemOption, const QString &dataDir, QStringList *problems = nullptr);

// "Ready — Fake Telecom, -73 dBm, SIM 2/30" for status lines.
QString modemSummary(modem::ModemState state, const QString &detail, const modem::ModemInfo &info);

// One line for logs (headless): "sms received from Cat (+4917...): text", "sms delivered to
// ...". `who`: the device label or the number. Empty for changes not worth a line (sending).
QString messageLogLine(const Message &m, const QString &who);
// Who a message went to or came from, for lists and logs: "Cat (+491701234567)", "Cat" (a
// device without a SIM number: GPRS commands), "+491701234567" (no device), "?".
QString peerText(const QString &deviceLabel, const QString &number);

class SmsService : public QObject {
    Q_OBJECT
public:
    // tracker (optional): devices online for GPRS, fixes published to the map, command replies.
    // Without it (CLI), fixes go to the store directly and GPRS is not available.
    explicit SmsService(store::Store &store, TrackerService *tracker = nullptr, QObject *parent = nullptr);
    ~SmsService() override;

    // Loads the waiting parts, requeues interrupted sends, opens the modem when configured.
    // False with *error when the store is not usable for SMS (tables missing).
    bool start(const SmsConfig &config, QString *error = nullptr);
    // Switches to another modem (or none: empty port) without losing the queue.
    void setModem(const modem::ModemConfig &config);
    bool hasModem() const { return m_engine != nullptr; }
    modem::ModemEngine *modem() const { return m_engine.get(); }
    modem::ModemState modemState() const;
    QString modemStatus() const;         // modemSummary() of the current state
    // The AT dialogue with the modem (also of the modems used before a switch), bounded.
    ModemLog *modemLog() { return &m_modemLog; }

    // Queues (SMS) or sends (GPRS) a text to a device name, IMEI or phone number.
    SendResult send(const QString &to, const QString &text, ChannelChoice channel = ChannelChoice::Auto);
    SendResult sendToDevice(qint64 deviceId, const QString &text, ChannelChoice channel = ChannelChoice::Auto);
    // The instance hand-off: {"command":"sms-send","to":..,"text":..,"channel":"auto|sms|gprs"}
    // -> {"ok":true,"id":..,"channel":..,"state":..,"to":..,"note":..} or {"ok":false,"error":..}.
    QJsonObject handleSendRequest(const QJsonObject &request);

    QList<Message> messages(const MessageFilter &filter) { return m_db.messages(filter); }
    std::optional<Message> message(qint64 id) { return m_db.message(id); }
    SmsStore &smsStore() { return m_db; }
    int pendingParts() const { return m_reassembler ? m_reassembler->pendingMessages() : 0; }
    // A device that is online over GPRS (auto channel picks GPRS for it).
    bool isOnline(qint64 deviceId) const;
    QString deviceLabel(qint64 deviceId);

    // Runs the outbox now (tests, after a settings change).
    void pump();
    // Delivers incomplete messages whose timeout passed (also run by a timer).
    void expireParts();

signals:
    void messageAdded(const td::sms::Message &message);
    void messageChanged(const td::sms::Message &message);
    void modemStateChanged(td::modem::ModemState state, const QString &detail);
    void modemInfoChanged(const td::modem::ModemInfo &info);
    // Problems worth a log line (store errors, unmatched status reports); never the PIN.
    void logMessage(const QString &text);

private:
    void onSendFinished(quint64 job, const QList<int> &references, const QString &error, bool retryable);
    void onMessageReceived(const modem::ReceivedPdu &received);
    void onStatusReport(const modem::ReceivedPdu &report);
    void onCommandReply(qint64 deviceId, const QString &text);
    void onModemState(modem::ModemState state, const QString &detail);
    void handleReport(const proto::pdu::Sms &report, qint64 nowMs);
    void storeAssembled(const proto::pdu::Reassembler::Result &result, qint64 nowMs);
    void addPositions(Message &m);
    void deleteFromModem(const QString &memory, int slot);
    void scheduleRetry(qint64 now);
    void changed(qint64 id);
    SendResult queueSms(const QString &number, qint64 deviceId, const QString &label, const QString &text);
    SendResult sendGprs(qint64 deviceId, const QString &label, const QString &number, const QString &text);
    qint64 retryDelayMs(int attempts) const;
    QList<store::Device> devices();

    store::Store &m_store;
    SmsStore m_db;
    TrackerService *m_tracker;
    SmsConfig m_config;
    std::unique_ptr<modem::ModemEngine> m_engine;
    std::unique_ptr<proto::pdu::Reassembler> m_reassembler;
    QHash<QString, QByteArray> m_waitingPdus;   // reassembler tag (part id) -> PDU
    quint64 m_job = 0;                          // the send job in flight
    qint64 m_jobMessage = 0;
    QTimer m_retryTimer;
    QTimer m_expireTimer;
    ModemLog m_modemLog;
    bool m_started = false;
};

} // namespace td::sms

Q_DECLARE_METATYPE(td::sms::Message)
