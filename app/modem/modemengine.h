// ModemEngine: one GSM modem on a serial port (QSerialPort), driven with AT commands in PDU
// mode. It owns the port and nothing else: it does not store messages. The SMS service
// (app/sms) owns the durable queue and the message table; the contract between them is:
//   - sendSms(): the service hands one message (all its parts) only while state() is Ready;
//     the engine answers with sendFinished() exactly once per job (also when the port
//     vanishes mid-send: error set, retryable true).
//   - messageReceived(): a message read from the modem's storage (after +CMTI, or by the
//     sweep at init and every few minutes). The engine does NOT delete it; the service
//     stores it and then calls deleteMessage(memory, index). Until then the same message may
//     be reported again by a later sweep (the service recognises it by its PDU).
//   - statusReportReceived(): an SMS-STATUS-REPORT (+CDS direct, or stored +CDSI / "SR").
//     A stored report is deleted by the engine itself right after the signal (a
//     deleteMessage() for it from the owner is merged with the engine's own, not repeated).
// One command at a time, queued, each with its timeout; unsolicited codes are handled
// whenever they arrive. When the port disappears or the modem resets (RDY, +CPIN: READY,
// repeated timeouts), the engine reopens the port and re-initialises by itself.
#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>

namespace td::modem {

struct ModemConfig {
    QString port;                    // "/dev/ttyUSB2", "COM5"; empty: not configured
    qint32 baud = 115200;
    QString pin;                     // SIM PIN, entered when +CPIN: SIM PIN (never logged)
    int commandTimeoutMs = 5000;     // simple commands
    int sendTimeoutMs = 60000;       // AT+CMGS final reply
    int listTimeoutMs = 20000;       // AT+CMGL on a full SIM
    int reconnectIntervalMs = 2000;  // retry opening a vanished port this often
    int sweepIntervalMs = 5 * 60 * 1000;  // backstop AT+CMGL=4
    int simBusyRetryMs = 1000;       // first delay after SIM busy / 515 (doubles, capped)
    int readyTimeoutMs = 30000;      // wait this long for "SMS Ready" before giving up init
};

// "PORT" or "PORT:BAUD" (the --modem option). nullopt with *error.
std::optional<ModemConfig> parseModemSpec(const QString &spec, QString *error = nullptr);

struct PortInfo {
    QString name;                    // as QSerialPortInfo::portName()
    QString systemLocation;
    QString description;
    QString manufacturer;
    QString serialNumber;
    quint16 vendorId = 0, productId = 0;
    bool hasIds = false;
};
QList<PortInfo> availablePorts();

enum class ModemState {
    Closed,        // not configured or close()d
    Opening,       // opening the port
    Initialising,  // running the init sequence
    Ready,         // registered (or not: see info), SMS usable
    Reconnecting,  // port gone or modem reset; retrying
    Failed,        // init failed for a reason that needs the user (wrong PIN, PUK, no SIM)
};
QString modemStateName(ModemState s);

struct ModemInfo {
    QString manufacturer, model, revision, imei;
    QString simState;                // "READY", "SIM PIN", ...
    QString operatorName;
    int registration = -1;           // +CREG stat
    std::optional<int> signalDbm;
    QString smsc;
    QString storage;                 // memory used for reading ("SM", "ME", "MT")
    int storageUsed = -1, storageTotal = -1;
    QDateTime updated;
};

struct ReceivedPdu {
    QString memory;                  // "SM", "ME", "SR"; empty for a +CMT/+CDS delivered directly
    int index = -1;                  // storage index; -1 when not stored on the modem
    int stat = -1;                   // +CMGL/+CMGR stat (0 unread, 1 read, ...)
    QByteArray pdu;                  // binary, SMSC field first
};

class ModemEngine : public QObject {
    Q_OBJECT
public:
    explicit ModemEngine(QObject *parent = nullptr);
    ~ModemEngine() override;

    void open(const ModemConfig &config);   // starts (re)connecting; state changes follow
    void close();
    ModemState state() const;
    QString stateDetail() const;     // why Reconnecting / Failed, readable
    ModemInfo info() const;
    ModemConfig config() const;

    // Sends one message (its parts, each an AT+CMGS). Returns a job id (> 0), or 0 when the
    // modem is not Ready (nothing is queued then). sendFinished() follows exactly once.
    quint64 sendSms(const QList<QByteArray> &pdus, const QList<int> &tpduLengths);
    // Deletes a stored message after the caller has stored it.
    void deleteMessage(const QString &memory, int index);
    // Runs the storage sweep now (AT+CMGL=4 over the read memory and "SR" when used).
    void sweep();

    // Probes a port: opens it, sends AT up to a few times, closes it. Blocking up to
    // timeoutMs; true when OK came back. For the settings dialog's "Detect".
    static bool probe(const QString &port, qint32 baud, int timeoutMs, QString *answer = nullptr);

signals:
    void stateChanged(td::modem::ModemState state, const QString &detail);
    void infoChanged(const td::modem::ModemInfo &info);
    void sendFinished(quint64 job, const QList<int> &messageReferences, const QString &error, bool retryable);
    void messageReceived(const td::modem::ReceivedPdu &message);
    void statusReportReceived(const td::modem::ReceivedPdu &report);
    void incomingCall(const QString &number);             // RING/+CLIP (trackers call back)
    // Every line to and from the modem (PIN and PDU payloads masked), for the AT log.
    void traffic(bool toModem, const QByteArray &line);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace td::modem

Q_DECLARE_METATYPE(td::modem::ModemInfo)
Q_DECLARE_METATYPE(td::modem::ReceivedPdu)
