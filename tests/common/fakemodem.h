// A scripted SIM800-class GSM modem on a pseudo-terminal, for tests of everything that talks
// to a modem (the modem engine, the SMS service). Driven by QSocketNotifiers on the thread
// that created it (the test's event loop: use QTRY_* or a QEventLoop while waiting). The
// engine under test opens portPath(), a symlink <tmpdir>/ttyFAKE<n> to the pty slave, so
// the port name survives unplug() / replug().
//
// Behaves like the real thing (shared/reference/modem/facts.md):
//   * echo of every command line until ATE0; verbose result codes; +CMEE=1 numeric errors;
//   * AT+CPIN? / AT+CPIN="...": SIM PIN phase (3 wrong PINs -> SIM PUK), no SIM (+CME 10),
//     "SIM busy" (+CME ERROR: 14) for simBusyMs after the SIM is ready;
//   * "SMS Ready" smsReadyDelayMs after the SIM is ready; before it AT+CMGF and the other SMS
//     commands answer ERROR;
//   * PDU mode only (AT+CMGF=1 is refused): AT+CMGS=<n> answers "\r\n> " (no line end),
//     takes hex + Ctrl-Z (ESC cancels), checks <n> and decodes the SUBMIT (recorded in
//     sent()), then "+CMGS: <mr>" + OK after sendDelayMs; bad PDUs get +CMS ERROR: 304;
//   * a SIM store with `storageSlots` slots: deliver() stores an SMS-DELIVER and raises +CMTI
//     (or +CMT when CNMI mt=2); AT+CMGR (unread -> read), AT+CMGL=<stat>, AT+CMGD, AT+CMGW
//     (+CMS ERROR: 322 when full). When the store is full, deliver() holds the message "in
//     the network" and delivers it as soon as a slot is free;
//   * status reports: +CDS: <len> + PDU (CNMI ds=1) or stored + +CDSI (ds=2), in "SR" when
//     AT+CPMS=? advertises it, else in "SM";
//   * AT+CPMS=? / AT+CNMI=? answer what the options say; AT+CPMS= / AT+CNMI= are checked
//     against it (ERROR otherwise);
//   * faults: error rules (reply X to command Y, n times), a URC inside the next reply, raw
//     garbage, muted (no answer at all), reset() (RDY, echo back on, CNMI default, SIM locked
//     again), unplug() (pty closed, symlink removed), replug() (new pty, same path, a fresh
//     boot).
#pragma once

#include "trackerdesk/protocol/smspdu.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <memory>
#include <optional>

class QSocketNotifier;

namespace td::test {

struct FakeModemOptions {
    QString pin;                       // empty: the SIM has no PIN
    bool simInserted = true;
    bool simPuk = false;               // blocked SIM: +CPIN: SIM PUK
    bool echo = true;                  // echo at power-on (ATE0 switches it off)
    int simBusyMs = 0;                 // "+CME ERROR: 14" after the SIM became ready
    int smsReadyDelayMs = 0;           // "SMS Ready" this long after the SIM became ready
    int sendDelayMs = 20;              // +CMGS answer delay after Ctrl-Z
    int storageSlots = 10;             // SIM store size ("SM")
    int cfunAtStart = 1;               // +CFUN: n at power-on (0: radio off)
    QByteArray cpmsTest = QByteArrayLiteral(
        "+CPMS: (\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\"),(\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\"),"
        "(\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\")");
    QByteArray cnmiTest = QByteArrayLiteral("+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)");   // SIM800
    QByteArray emptyReadReply = QByteArrayLiteral("OK");   // AT+CMGR on an empty slot: "OK",
                                                           // "+CMS ERROR: 321" or "+CMS ERROR: 500"
    QString smsc = QStringLiteral("+491710760000");
    QString operatorName = QStringLiteral("Fake Telecom");
    int rssi = 20;                     // +CSQ
    int registration = 1;              // +CREG stat
    QByteArray manufacturer = QByteArrayLiteral("SIMCOM_Ltd");
    QByteArray model = QByteArrayLiteral("SIMCOM_SIM800L");
    QByteArray revision = QByteArrayLiteral("Revision:1418B04SIM800L24");
    QByteArray imei = QByteArrayLiteral("866104021234567");
    bool autoStatusReport = false;     // SUBMIT with SRR set -> report after statusReportDelayMs
    int statusReportDelayMs = 50;
    quint8 autoReportStatus = 0x00;    // TP-ST of automatic reports (0 delivered)
};

class FakeModem : public QObject {
    Q_OBJECT
public:
    struct Sent {
        QByteArray pdu;                // as received: SMSC field + TPDU
        int tpduLength = 0;            // the n of AT+CMGS=n
        int messageReference = 0;      // answered +CMGS: mr
        proto::pdu::Sms sms;           // decoded SUBMIT
    };
    struct Slot {
        int stat = 0;                  // 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT
        QByteArray pdu;                // SMSC field first
    };

    explicit FakeModem(const FakeModemOptions &options = {}, QObject *parent = nullptr);
    ~FakeModem() override;

    // Creates the pty and the symlink; the modem is "on" (no boot URCs printed).
    bool start(QString *error = nullptr);
    QString portPath() const { return m_linkPath; }
    FakeModemOptions &options() { return m_options; }

    // ---- the network side ----
    // Stores an SMS-DELIVER PDU (SMSC field first) and indicates it; returns the slot index,
    // 0 when delivered directly (+CMT), -1 when held because the SIM is full.
    int deliver(const QByteArray &deliverPdu);
    // A single-part text from `from` (GSM-7 or UCS-2 as needed), timestamped now.
    int deliverText(const QString &from, const QString &text);
    // A PDU in the store without any indication (there before the engine opened the port).
    int store(const QByteArray &pdu, int stat = 0, const QString &memory = QStringLiteral("SM"));
    // An SMS-STATUS-REPORT for message reference `mr`, reported as CNMI ds says.
    void statusReport(int mr, quint8 status = 0x00, const QString &recipient = QStringLiteral("+491701234567"));
    static QByteArray deliverPdu(const QString &from, const QString &text, const QDateTime &when = {});

    // ---- faults ----
    // The next `times` commands starting with `commandPrefix` (case-insensitive) get `reply`
    // as their final result instead ("+CMS ERROR: 332"; empty: no answer at all). For
    // AT+CMGS the reply replaces the answer after Ctrl-Z (the PDU is still recorded as
    // attempted in attempts(), not in sent()); with `beforePrompt` it comes instead of the
    // prompt. times < 0: forever.
    void addErrorRule(const QByteArray &commandPrefix, const QByteArray &reply, int times = 1, bool beforePrompt = false);
    void clearErrorRules() { m_rules.clear(); }
    // Lines written in the middle of the next reply that has information lines (after its
    // first line), else just before its final result.
    void injectIntoNextReply(const QByteArray &lines) { m_inject = lines; }
    void sendRaw(const QByteArray &bytes);          // anything, now
    void sendUrc(const QByteArray &line);           // "\r\n" + line + "\r\n", now
    void setMuted(bool muted) { m_muted = muted; }  // ignores everything it receives
    void reset();                                   // a modem reboot (RDY ...)
    void unplug();                                  // the USB device vanished
    bool replug(QString *error = nullptr);          // it came back (fresh boot, same path)
    bool isPlugged() const { return m_master >= 0; }

    // ---- what happened ----
    const QList<Sent> &sent() const { return m_sent; }
    int attempts() const { return m_attempts; }            // Ctrl-Z'ed PDUs, accepted or not
    const QList<QByteArray> &commands() const { return m_commands; }
    int count(const QByteArray &commandPrefix) const;      // commands received with this prefix
    QByteArray lastCommand(const QByteArray &commandPrefix) const;
    bool echo() const { return m_echo; }
    QByteArray cnmi() const { return m_cnmiSet; }          // last accepted AT+CNMI= value
    QByteArray cpms() const { return m_cpmsSet; }          // last accepted AT+CPMS= value
    const QList<QByteArray> &cpmsHistory() const { return m_cpmsHistory; }   // every accepted one
    int pinAttempts() const { return m_pinAttempts; }
    int boots() const { return m_boots; }
    int used(const QString &memory = QStringLiteral("SM")) const;
    std::optional<Slot> slot(int index, const QString &memory = QStringLiteral("SM")) const;
    int held() const { return int(m_network.size()); }     // waiting for a free slot
    bool inPrompt() const { return m_inPrompt; }

signals:
    void commandReceived(const QByteArray &line);
    void pduReceived(const QByteArray &hex);                // after Ctrl-Z

private:
    struct Rule {
        QByteArray prefix;
        QByteArray reply;
        int times = 1;
        bool beforePrompt = false;
    };
    struct Storage {
        QList<std::optional<Slot>> cells;
    };

    bool openPty(QString *error);
    void closePty();
    void powerOn(bool printBoot);
    void simReady();
    void onReadable();
    void onWritable();
    void write(const QByteArray &bytes);
    void handleCommand(const QByteArray &line);
    void handlePdu(const QByteArray &hex);
    void reply(const QList<QByteArray> &lines, const QByteArray &final = QByteArrayLiteral("OK"));
    void urc(const QByteArray &text);               // written now, or after the PDU input
    std::optional<Rule> takeRule(const QByteArray &line, bool cmgs, bool beforePrompt);
    Storage &storage(const QString &memory);
    const Storage *findStorage(const QString &memory) const;
    QString canonicalMemory(const QString &memory) const;
    int storeIn(const QString &memory, const Slot &slot);
    void flushNetwork();
    bool smsReadyNow() const;
    bool busyNow() const;
    QByteArray error(int cms) const;
    QList<QStringList> cpmsOffer() const;
    QList<QList<int>> cnmiOffer() const;
    int cnmiValue(int i) const;
    void later(int ms, std::function<void()> f);

    FakeModemOptions m_options;
    QTemporaryDir m_dir;
    QString m_linkPath;
    int m_master = -1;
    int m_slave = -1;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QByteArray m_out;
    QByteArray m_in;
    quint64 m_plugGeneration = 0;      // bumps on unplug / reset: stale timers do nothing

    // modem state
    bool m_echo = true;
    int m_cmee = 0;
    int m_cfun = 1;
    bool m_simLocked = false;
    bool m_puk = false;
    int m_pinTries = 3;
    int m_pinAttempts = 0;
    qint64 m_simReadyAt = -1;          // m_clock ms; -1 while locked / absent
    bool m_smsReadyPrinted = false;
    QElapsedTimer m_clock;
    QByteArray m_cnmiSet;
    QByteArray m_cpmsSet;
    QList<QByteArray> m_cpmsHistory;
    QString m_mem1 = QStringLiteral("SM"), m_mem2 = QStringLiteral("SM"), m_mem3 = QStringLiteral("SM");
    QHash<QString, Storage> m_storages;                 // "SM" (+ "SR" when advertised)
    QList<QByteArray> m_network;                        // DELIVER PDUs held while full
    bool m_inPrompt = false;
    int m_promptLength = 0;
    QByteArray m_promptCommand;
    QByteArray m_deferredUrcs;
    int m_nextMr = 1;
    bool m_muted = false;
    QList<Rule> m_rules;
    QByteArray m_inject;
    int m_boots = 0;
    int m_attempts = 0;

    QList<Sent> m_sent;
    QList<QByteArray> m_commands;
};

} // namespace td::test
