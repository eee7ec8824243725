// What a GSM modem prints on its AT port (3GPP TS 27.005 / 27.007, V.250), as pure
// functions: a streaming reader that cuts the byte stream into lines, the `> ` prompt
// (which has no line end), echoes and unsolicited result codes (classified by content,
// with the two-line +CMT / +CDS read as one unit), and parsers for the replies the modem
// engine needs. QtCore only; never crashes on junk (bounded buffers, clear errors).
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

namespace td::proto::at {

// ---- final result codes ----
enum class FinalKind { Ok, Error, CmsError, CmeError, NoCarrier, CommandNotSupport, Busy, NoAnswer };
struct Final {
    FinalKind kind = FinalKind::Ok;
    int code = -1;                   // +CMS/+CME number; -1 when verbose or none
    QString text;                    // readable: "+CMS ERROR 322: memory full"
    bool ok() const { return kind == FinalKind::Ok; }
    // Worth retrying after a delay: SIM busy (CME 14, CMS 314), 515 "please wait", CMS 500
    // right after start-up is NOT retryable here (the engine decides).
    bool retryable() const;
};
// nullopt when the line is not a final result code. Accepts numeric and verbose forms
// ("+CME ERROR: SIM busy") and Huawei's "COMMAND NOT SUPPORT".
std::optional<Final> parseFinal(const QByteArray &line);
QString cmsErrorText(int code);      // 27.005 3.2.5 table (and network causes < 256)
QString cmeErrorText(int code);      // 27.007 table

// ---- the streaming reader ----
struct Event {
    enum Kind {
        Line,        // a response line of the command in flight (or stray text)
        Final,       // a final result code (final is set)
        Prompt,      // "> " after AT+CMGS
        Echo,        // the command line echoed back
        Urc,         // an unsolicited result code (urc / line / pdu set)
        Overflow,    // a line longer than the limit was dropped (line holds its start)
    } kind = Line;
    QByteArray line;                 // without CR/LF
    QByteArray pdu;                  // second line of +CMT / +CDS (hex)
    QString urc;                     // "+CMTI", "RING", "SMS Ready", ...
    std::optional<at::Final> final;
};

class Reader {
public:
    static constexpr int MaxLine = 4096;
    // The command in flight ("AT+CREG?"), empty when idle. Lines echoing it become Echo;
    // lines answering it (same prefix, e.g. "+CREG: 0,1" for AT+CREG?) are Line, not Urc;
    // while it is AT+CMGS the prompt is recognised.
    void setCommand(const QByteArray &command);
    QList<Event> feed(const QByteArray &bytes);
    void reset();                    // port reopened: drop partial input
    int buffered() const { return m_buffer.size() + m_pendingUrc.line.size(); }

private:
    QByteArray m_command;
    QByteArray m_buffer;
    Event m_pendingUrc;              // +CMT/+CDS header waiting for its PDU line
    bool m_waitingPdu = false;
    bool m_dropping = false;
};

// URC names the reader knows ("+CMTI", "+CMT", "+CDS", "+CDSI", "+CREG", "+CGREG", "+CEREG",
// "RING", "+CLIP", "+CUSD", "RDY", "+CPIN", "Call Ready", "SMS Ready", "+CFUN", "NORMAL POWER DOWN", ...).
QStringList urcNames();
// The URC name of a line, or empty when the line is not unsolicited.
QString urcName(const QByteArray &line);

// ---- reply parsers (the text after the prefix; nullopt on a malformed line) ----
struct MessageIndication { QString memory; int index = -1; };          // +CMTI / +CDSI
std::optional<MessageIndication> parseCmti(const QByteArray &line);
struct Registration { int mode = -1; int stat = -1; QString lac; QString cellId; };
std::optional<Registration> parseCreg(const QByteArray &line);         // +CREG/+CGREG/+CEREG, reply or URC
QString registrationText(int stat);                                    // "registered, home network", ...
struct SignalQuality { int rssi = 99; int ber = 99; std::optional<int> dbm; };  // dBm = -113 + 2*rssi
std::optional<SignalQuality> parseCsq(const QByteArray &line);
std::optional<QString> parseCpin(const QByteArray &line);              // "READY", "SIM PIN", ...
std::optional<QString> parseCops(const QByteArray &line);              // operator name / number
std::optional<int> parseCmgs(const QByteArray &line);                  // message reference
struct StorageUse { QString memory; int used = 0; int total = 0; };
QList<StorageUse> parseCpms(const QByteArray &line);                   // "+CPMS: 3,30,3,30,3,30" or with names
QList<QStringList> parseCpmsTest(const QByteArray &line);              // +CPMS: ("SM","ME"),("SM"),("SM")
QList<QList<int>> parseCnmiTest(const QByteArray &line);               // +CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)
std::optional<QString> parseCsca(const QByteArray &line);              // SMSC number
struct ListedMessage { int index = -1; int stat = -1; int length = 0; };
std::optional<ListedMessage> parseCmgl(const QByteArray &line);        // "+CMGL: 1,0,,29"
std::optional<ListedMessage> parseCmgr(const QByteArray &line);        // "+CMGR: 0,,29" (index -1)
std::optional<int> parsePduLength(const QByteArray &line);             // "+CMT: ,25" / "+CDS: 25"

// Picks the CNMI values from what =? advertises: prefer 2,1,0,2,0 (mode 2, mt 1 stored,
// no broadcast, ds 2 stored report, else ds 1), falling back per parameter. Empty when the
// test reply is unusable.
QByteArray chooseCnmi(const QList<QList<int>> &supported);

// Quoting for AT arguments ("AT+CPIN=\"1234\""); rejects characters a modem cannot take.
std::optional<QByteArray> quoted(const QString &value);

} // namespace td::proto::at
