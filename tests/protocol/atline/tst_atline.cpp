// Tests of the AT line reader and the reply parsers (td::proto::at).
//
// Data: tests/data/atline_vectors.tsv - modem output transcripts (hex of the raw bytes) with
// the command in flight and the expected events. They follow the exchanges and pitfalls of
// shared/reference/modem/facts.md (sources in the source column); the bytes themselves are
// CONSTRUCTED in those shapes (the facts quote lines, not raw captures). Each transcript is
// fed whole, byte by byte, and split at every point (two and three chunks): the events
// must be the same every time.
#include "trackerdesk/protocol/atline.h"

#include <QFile>
#include <QTest>

using namespace td::proto::at;
namespace at = td::proto::at;

namespace {

struct Transcript {
    QString name;
    QByteArray command;
    QByteArray bytes;
    QStringList events;
};

QList<Transcript> loadTranscripts() {
    QList<Transcript> out;
    QFile f(QStringLiteral(TD_TEST_DATA "/atline_vectors.tsv"));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const QList<QByteArray> lines = f.readAll().split('\n');
    const QList<QByteArray> header = lines.value(0).split('\t');
    const int cName = int(header.indexOf("name")), cCmd = int(header.indexOf("command")),
              cHex = int(header.indexOf("hex")), cEvents = int(header.indexOf("events"));
    for (int i = 1; i < lines.size(); ++i) {
        if (lines.at(i).trimmed().isEmpty())
            continue;
        const QList<QByteArray> cells = lines.at(i).split('\t');
        Transcript t;
        t.name = QString::fromUtf8(cells.value(cName));
        t.command = cells.value(cCmd);
        t.bytes = QByteArray::fromHex(cells.value(cHex));
        t.events = QString::fromUtf8(cells.value(cEvents)).split(QStringLiteral(" | "));
        out.append(t);
    }
    return out;
}

QString describe(const Event &e) {
    switch (e.kind) {
    case Event::Line: return QStringLiteral("L:") + QString::fromLatin1(e.line);
    case Event::Final: return QStringLiteral("F:") + (e.final ? e.final->text : QStringLiteral("?"));
    case Event::Prompt: return QStringLiteral("P");
    case Event::Echo: return QStringLiteral("E");
    case Event::Urc: return QStringLiteral("U:") + e.urc + (e.pdu.isEmpty() ? QString() : QLatin1Char('/') + QString::fromLatin1(e.pdu));
    case Event::Overflow: return QStringLiteral("O:") + QString::fromLatin1(e.line.left(8));
    }
    return {};
}

QStringList feedChunks(const QByteArray &command, const QList<QByteArray> &chunks, int *bufferedAfter = nullptr) {
    Reader r;
    r.setCommand(command);
    QStringList out;
    for (const QByteArray &c : chunks)
        for (const Event &e : r.feed(c))
            out.append(describe(e));
    if (bufferedAfter)
        *bufferedAfter = r.buffered();
    return out;
}

} // namespace

class TestAtLine : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY2(loadTranscripts().size() >= 30, "tests/data/atline_vectors.tsv missing or short"); }

    void transcripts_data();
    void transcripts();
    void promptOnlyForCmgs();
    void echoAndResponsePrefix();
    void overflow();
    void resetDropsPartialInput();
    void bufferedCountsPendingUrc();

    void parseFinal_data();
    void parseFinal();
    void errorTables_data();
    void errorTables();
    void urcName_data();
    void urcName();

    void parseCmti_data();
    void parseCmti();
    void parseCreg_data();
    void parseCreg();
    void parseCsq_data();
    void parseCsq();
    void parseSimple_data();
    void parseSimple();
    void parseCpms_data();
    void parseCpms();
    void parseCpmsTest_data();
    void parseCpmsTest();
    void parseCnmiTest_data();
    void parseCnmiTest();
    void parseListed_data();
    void parseListed();
    void chooseCnmi_data();
    void chooseCnmi();
    void quoted_data();
    void quoted();
};

// ---- the reader ----

void TestAtLine::transcripts_data() {
    QTest::addColumn<QByteArray>("command");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QStringList>("expected");
    for (const Transcript &t : loadTranscripts())
        QTest::newRow(qPrintable(t.name)) << t.command << t.bytes << t.events;
}

void TestAtLine::transcripts() {
    QFETCH(QByteArray, command);
    QFETCH(QByteArray, bytes);
    QFETCH(QStringList, expected);
    int buffered = -1;
    QCOMPARE(feedChunks(command, {bytes}, &buffered), expected);
    QCOMPARE(buffered, 0);
    // Byte by byte.
    QList<QByteArray> single;
    for (char c : bytes)
        single.append(QByteArray(1, c));
    QCOMPARE(feedChunks(command, single), expected);
    // Every split point, two and three chunks.
    for (int i = 0; i <= bytes.size(); ++i) {
        const QStringList two = feedChunks(command, {bytes.left(i), bytes.mid(i)});
        if (two != expected)
            QFAIL(qPrintable(QStringLiteral("split at %1: %2").arg(i).arg(two.join(QLatin1String(" | ")))));
        for (int j = i; j <= bytes.size(); j += 3) {
            const QStringList three = feedChunks(command, {bytes.left(i), bytes.mid(i, j - i), bytes.mid(j)});
            if (three != expected)
                QFAIL(qPrintable(QStringLiteral("split at %1/%2: %3").arg(i).arg(j).arg(three.join(QLatin1String(" | ")))));
        }
    }
}

void TestAtLine::promptOnlyForCmgs() {
    // "> " is a prompt only while AT+CMGS / AT+CMGW is in flight; otherwise it is text.
    QCOMPARE(feedChunks("AT+CSQ", {"> hello\r\n"}), QStringList({"L:> hello"}));
    QCOMPARE(feedChunks("AT+CMGS=24", {"> "}), QStringList({"P"}));
    QCOMPARE(feedChunks("at+cmgs=24", {"\r\n", ">", " "}), QStringList({"P"}));
    // ">" alone is held until the next byte says what it is.
    int buffered = -1;
    QCOMPARE(feedChunks("AT+CMGS=24", {"\r\n>"}, &buffered), QStringList());
    QCOMPARE(buffered, 1);
    QCOMPARE(feedChunks("AT+CMGS=24", {">\r\n"}), QStringList({"P"}));
    // The echoed PDU after the prompt ends with Ctrl-Z (ESC when cancelled): Echo.
    QCOMPARE(feedChunks("AT+CMGS=24", {"> 00FF\x1b\r\n+CMS ERROR: 304\r\n"}),
             QStringList({"P", "E", "F:+CMS ERROR 304: invalid PDU mode parameter"}));
}

void TestAtLine::echoAndResponsePrefix() {
    // Echo matches the command whatever its case and surrounding blanks.
    QCOMPARE(feedChunks(" AT+CSQ ", {"at+csq\r\n"}), QStringList({"E"}));
    // A +CREG: line is a Line while AT+CREG? runs, a Urc otherwise; +CGREG stays a Urc.
    QCOMPARE(feedChunks("AT+CREG?", {"+CREG: 2,1,\"1A2B\",\"0C3D\"\r\n+CGREG: 1\r\n"}),
             QStringList({"L:+CREG: 2,1,\"1A2B\",\"0C3D\"", "U:+CGREG"}));
    QCOMPARE(feedChunks("AT+CREG=2", {"+CREG: 1,\"1A2B\",\"0C3D\"\r\n"}), QStringList({"L:+CREG: 1,\"1A2B\",\"0C3D\""}));
    QCOMPARE(feedChunks("AT", {"+CREG: 1,\"1A2B\",\"0C3D\"\r\n"}), QStringList({"U:+CREG"}));
    // +CPIN: READY answers AT+CPIN? but is a reset URC otherwise.
    QCOMPARE(feedChunks("AT+CSQ", {"+CPIN: READY\r\n"}), QStringList({"U:+CPIN"}));
    // setCommand() mid-stream: the next lines follow the new command.
    Reader r;
    r.setCommand("AT+CMGS=5");
    QCOMPARE(r.feed("\r\n> ").size(), 1);
    r.setCommand({});
    const QList<Event> ev = r.feed("> \r\n");
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev.first().kind, Event::Line);
}

void TestAtLine::overflow() {
    // A line longer than MaxLine is dropped up to its end, the same whole or in pieces.
    const QByteArray longLine = QByteArray(Reader::MaxLine + 10, 'A');
    const QByteArray stream = "\r\nOK\r\n" + longLine + "\r\n+CMTI: \"SM\",1\r\n";
    const QStringList expected({"F:OK", "O:AAAAAAAA", "U:+CMTI"});
    QCOMPARE(feedChunks("AT", {stream}), expected);
    QList<QByteArray> pieces;
    for (int i = 0; i < stream.size(); i += 100)
        pieces.append(stream.mid(i, 100));
    QCOMPARE(feedChunks("AT", pieces), expected);
    // The buffer stays bounded while junk without line ends streams in.
    Reader r;
    int overflows = 0;
    for (int i = 0; i < 100; ++i) {
        for (const Event &e : r.feed(QByteArray(1000, 'x')))
            overflows += e.kind == Event::Overflow;
        QVERIFY(r.buffered() <= Reader::MaxLine);
    }
    QCOMPARE(overflows, 1);
    const QList<Event> after = r.feed("tail\r\nOK\r\n");
    QCOMPARE(after.size(), 1);
    QCOMPARE(after.first().kind, Event::Final);
    // Exactly MaxLine is still a line.
    QCOMPARE(feedChunks("", {QByteArray(Reader::MaxLine, 'B') + "\r\n"}).first().left(4), QStringLiteral("L:BB"));
    // A +CMT header whose PDU line overflows is delivered without its PDU first.
    QCOMPARE(feedChunks("", {"+CMT: ,24\r\n" + longLine + "\r\n"}), QStringList({"U:+CMT", "O:AAAAAAAA"}));
}

void TestAtLine::resetDropsPartialInput() {
    Reader r;
    r.setCommand("AT+CSQ");
    QVERIFY(r.feed("+CSQ: 1").isEmpty());
    QVERIFY(r.feed("\r\n+CMT: ,24\r\n").size() == 1);   // the +CSQ line; +CMT waits for its PDU
    QVERIFY(r.buffered() > 0);
    r.reset();
    QCOMPARE(r.buffered(), 0);
    const QList<Event> ev = r.feed("OK\r\n");
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev.first().kind, Event::Final);
}

void TestAtLine::bufferedCountsPendingUrc() {
    Reader r;
    QVERIFY(r.feed("+CDS: 25\r\n").isEmpty());
    QCOMPARE(r.buffered(), int(qstrlen("+CDS: 25")));
    QVERIFY(r.feed("0791").isEmpty());
    QCOMPARE(r.buffered(), int(qstrlen("+CDS: 25")) + 4);
    const QList<Event> ev = r.feed("AB\r\n");
    QCOMPARE(ev.size(), 1);
    QCOMPARE(ev.first().pdu, QByteArray("0791AB"));
    QCOMPARE(ev.first().line, QByteArray("+CDS: 25"));
    QCOMPARE(r.buffered(), 0);
}

// ---- final result codes ----

void TestAtLine::parseFinal_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<int>("kind");       // -1: not a final result code
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("retryable");
    QTest::newRow("OK") << QByteArray("OK") << int(FinalKind::Ok) << -1 << "OK" << false;
    QTest::newRow("OK with blanks") << QByteArray(" OK \r") << int(FinalKind::Ok) << -1 << "OK" << false;
    QTest::newRow("ERROR") << QByteArray("ERROR") << int(FinalKind::Error) << -1 << "ERROR" << false;
    QTest::newRow("CMS 500") << QByteArray("+CMS ERROR: 500") << int(FinalKind::CmsError) << 500 << "+CMS ERROR 500: unknown error" << false;
    QTest::newRow("CMS 322") << QByteArray("+CMS ERROR: 322") << int(FinalKind::CmsError) << 322 << "+CMS ERROR 322: memory full" << false;
    QTest::newRow("CMS 330") << QByteArray("+CMS ERROR: 330") << int(FinalKind::CmsError) << 330 << "+CMS ERROR 330: SMSC address unknown" << false;
    QTest::newRow("CMS 314 busy") << QByteArray("+CMS ERROR: 314") << int(FinalKind::CmsError) << 314 << "+CMS ERROR 314: SIM busy" << true;
    QTest::newRow("CMS network cause") << QByteArray("+CMS ERROR: 42") << int(FinalKind::CmsError) << 42 << "+CMS ERROR 42: congestion" << false;
    QTest::newRow("CMS vendor") << QByteArray("+CMS ERROR: 530") << int(FinalKind::CmsError) << 530 << "+CMS ERROR 530: manufacturer-specific error 530" << false;
    QTest::newRow("CME 14") << QByteArray("+CME ERROR: 14") << int(FinalKind::CmeError) << 14 << "+CME ERROR 14: SIM busy" << true;
    QTest::newRow("CME 515") << QByteArray("+CME ERROR: 515") << int(FinalKind::CmeError) << 515 << "+CME ERROR 515: please wait, init or command processing in progress" << true;
    QTest::newRow("CME 3") << QByteArray("+CME ERROR: 3") << int(FinalKind::CmeError) << 3 << "+CME ERROR 3: operation not allowed" << false;
    QTest::newRow("CME 258 unknown") << QByteArray("+CME ERROR: 258") << int(FinalKind::CmeError) << 258 << "+CME ERROR 258: unknown error 258" << false;
    QTest::newRow("CME verbose busy") << QByteArray("+CME ERROR: SIM busy") << int(FinalKind::CmeError) << -1 << "+CME ERROR: SIM busy" << true;
    QTest::newRow("CME verbose") << QByteArray("+CME ERROR: SIM PIN required") << int(FinalKind::CmeError) << -1 << "+CME ERROR: SIM PIN required" << false;
    QTest::newRow("CMS no cause") << QByteArray("+CMS ERROR:") << int(FinalKind::CmsError) << -1 << "+CMS ERROR: (no cause)" << false;
    QTest::newRow("CMS huge number") << QByteArray("+CMS ERROR: 99999999999") << int(FinalKind::CmsError) << -1 << "+CMS ERROR: 99999999999" << false;
    QTest::newRow("NO CARRIER") << QByteArray("NO CARRIER") << int(FinalKind::NoCarrier) << -1 << "NO CARRIER" << false;
    QTest::newRow("COMMAND NOT SUPPORT") << QByteArray("COMMAND NOT SUPPORT") << int(FinalKind::CommandNotSupport) << -1 << "COMMAND NOT SUPPORT" << false;
    QTest::newRow("BUSY") << QByteArray("BUSY") << int(FinalKind::Busy) << -1 << "BUSY" << false;
    QTest::newRow("NO ANSWER") << QByteArray("NO ANSWER") << int(FinalKind::NoAnswer) << -1 << "NO ANSWER" << false;
    QTest::newRow("not final: OKAY") << QByteArray("OKAY") << -1 << -1 << "" << false;
    QTest::newRow("not final: +CSQ") << QByteArray("+CSQ: 1,2") << -1 << -1 << "" << false;
    QTest::newRow("not final: empty") << QByteArray("") << -1 << -1 << "" << false;
    QTest::newRow("not final: ERROR text") << QByteArray("ERROR in line") << -1 << -1 << "" << false;
}

void TestAtLine::parseFinal() {
    QFETCH(QByteArray, line);
    QFETCH(int, kind);
    QFETCH(int, code);
    QFETCH(QString, text);
    QFETCH(bool, retryable);
    const auto f = at::parseFinal(line);
    QCOMPARE(f.has_value(), kind >= 0);
    if (!f)
        return;
    QCOMPARE(int(f->kind), kind);
    QCOMPARE(f->code, code);
    QCOMPARE(f->text, text);
    QCOMPARE(f->retryable(), retryable);
    QCOMPARE(f->ok(), kind == int(FinalKind::Ok));
}

void TestAtLine::errorTables_data() {
    QTest::addColumn<bool>("cms");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("text");
    // The codes facts.md section 9 lists.
    const struct { int code; const char *text; } cms[] = {
        {300, "ME failure"}, {301, "SMS service of ME reserved"}, {302, "operation not allowed"},
        {303, "operation not supported"}, {304, "invalid PDU mode parameter"}, {305, "invalid text mode parameter"},
        {310, "SIM not inserted"}, {311, "SIM PIN required"}, {313, "SIM failure"}, {314, "SIM busy"},
        {316, "SIM PUK required"}, {320, "memory failure"}, {321, "invalid memory index"}, {322, "memory full"},
        {330, "SMSC address unknown"}, {331, "no network service"}, {332, "network timeout"},
        {340, "no +CNMA acknowledgement expected"}, {500, "unknown error"}, {21, "short message transfer rejected"},
        {27, "destination out of service"}, {38, "network out of order"}, {42, "congestion"},
        {512, "manufacturer-specific error 512"}, {200, "network cause 200"}, {400, "unknown error 400"},
    };
    for (const auto &e : cms)
        QTest::addRow("CMS %d", e.code) << true << e.code << QString::fromUtf8(e.text);
    const struct { int code; const char *text; } cme[] = {
        {3, "operation not allowed"}, {4, "operation not supported"}, {10, "SIM not inserted"}, {11, "SIM PIN required"},
        {13, "SIM failure"}, {14, "SIM busy"}, {16, "incorrect password"}, {30, "no network service"}, {100, "unknown"},
        {515, "please wait, init or command processing in progress"}, {999, "manufacturer-specific error 999"},
        {77, "unknown error 77"},
    };
    for (const auto &e : cme)
        QTest::addRow("CME %d", e.code) << false << e.code << QString::fromUtf8(e.text);
}

void TestAtLine::errorTables() {
    QFETCH(bool, cms);
    QFETCH(int, code);
    QFETCH(QString, text);
    QCOMPARE(cms ? cmsErrorText(code) : cmeErrorText(code), text);
}

void TestAtLine::urcName_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("name");
    QTest::newRow("+CMTI") << QByteArray("+CMTI: \"SM\",3") << "+CMTI";
    QTest::newRow("+CMT not +CMTI") << QByteArray("+CMT: ,24") << "+CMT";
    QTest::newRow("+CDS") << QByteArray("+CDS: 25") << "+CDS";
    QTest::newRow("+CDSI") << QByteArray("+CDSI: \"SR\",1") << "+CDSI";
    QTest::newRow("+CREG") << QByteArray("+CREG: 1") << "+CREG";
    QTest::newRow("+CEREG") << QByteArray("+CEREG: 5") << "+CEREG";
    QTest::newRow("RING") << QByteArray("RING") << "RING";
    QTest::newRow("SMS Ready") << QByteArray("SMS Ready") << "SMS Ready";
    QTest::newRow("Call Ready") << QByteArray("Call Ready") << "Call Ready";
    QTest::newRow("RDY") << QByteArray("RDY") << "RDY";
    QTest::newRow("NORMAL POWER DOWN") << QByteArray("NORMAL POWER DOWN") << "NORMAL POWER DOWN";
    QTest::newRow("+CUSD") << QByteArray("+CUSD: 0,\"x\",15") << "+CUSD";
    QTest::newRow("^RSSI") << QByteArray("^RSSI: 17") << "^RSSI";
    QTest::newRow("not: RINGING") << QByteArray("RINGING") << "";
    QTest::newRow("not: +CMTIX") << QByteArray("+CMTIX: 1") << "";
    QTest::newRow("not: +CSQ") << QByteArray("+CSQ: 18,99") << "";
    QTest::newRow("not: OK") << QByteArray("OK") << "";
    QTest::newRow("not: +CMT without colon") << QByteArray("+CMT") << "";
}

void TestAtLine::urcName() {
    QFETCH(QByteArray, line);
    QFETCH(QString, name);
    QCOMPARE(at::urcName(line), name);
    if (!name.isEmpty())
        QVERIFY(urcNames().contains(name));
}

// ---- reply parsers ----

void TestAtLine::parseCmti_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("memory");   // empty: nullopt expected
    QTest::addColumn<int>("index");
    QTest::newRow("SM 3") << QByteArray("+CMTI: \"SM\",3") << "SM" << 3;
    QTest::newRow("ME 12 blanks") << QByteArray("+CMTI: \"ME\", 12 ") << "ME" << 12;
    QTest::newRow("CDSI SR") << QByteArray("+CDSI: \"SR\",5") << "SR" << 5;
    QTest::newRow("unquoted memory") << QByteArray("+CMTI: SM,0") << "SM" << 0;
    QTest::newRow("missing index") << QByteArray("+CMTI: \"SM\"") << "" << -1;
    QTest::newRow("negative") << QByteArray("+CMTI: \"SM\",-1") << "" << -1;
    QTest::newRow("garbage index") << QByteArray("+CMTI: \"SM\",x") << "" << -1;
    QTest::newRow("unterminated quote") << QByteArray("+CMTI: \"SM,3") << "" << -1;
    QTest::newRow("other prefix") << QByteArray("+CMGS: 3") << "" << -1;
    QTest::newRow("empty memory") << QByteArray("+CMTI: \"\",3") << "" << -1;
}

void TestAtLine::parseCmti() {
    QFETCH(QByteArray, line);
    QFETCH(QString, memory);
    QFETCH(int, index);
    const auto m = at::parseCmti(line);
    QCOMPARE(m.has_value(), !memory.isEmpty());
    if (m) {
        QCOMPARE(m->memory, memory);
        QCOMPARE(m->index, index);
    }
}

void TestAtLine::parseCreg_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("stat");
    QTest::addColumn<QString>("lac");
    QTest::addColumn<QString>("cellId");
    QTest::newRow("reply 0,1") << QByteArray("+CREG: 0,1") << true << 0 << 1 << "" << "";
    QTest::newRow("reply 2,5 with location") << QByteArray("+CREG: 2,5,\"1a2b\",\"00c3d4\",7") << true << 2 << 5 << "1A2B" << "00C3D4";
    QTest::newRow("urc stat") << QByteArray("+CREG: 1") << true << -1 << 1 << "" << "";
    QTest::newRow("urc with location") << QByteArray("+CREG: 5,\"1A2B\",\"0C3D\"") << true << -1 << 5 << "1A2B" << "0C3D";
    QTest::newRow("CGREG reply") << QByteArray("+CGREG: 0,2") << true << 0 << 2 << "" << "";
    QTest::newRow("CEREG lte") << QByteArray("+CEREG: 2,1,\"00FF\",\"01A2B3C4\",7") << true << 2 << 1 << "00FF" << "01A2B3C4";
    QTest::newRow("stat out of range") << QByteArray("+CREG: 0,12") << false << 0 << 0 << "" << "";
    QTest::newRow("not a number") << QByteArray("+CREG: x") << false << 0 << 0 << "" << "";
    QTest::newRow("empty") << QByteArray("+CREG:") << false << 0 << 0 << "" << "";
    QTest::newRow("bad mode") << QByteArray("+CREG: 9,1") << false << 0 << 0 << "" << "";
    QTest::newRow("wrong prefix") << QByteArray("+COPS: 0,1") << false << 0 << 0 << "" << "";
}

void TestAtLine::parseCreg() {
    QFETCH(QByteArray, line);
    QFETCH(bool, ok);
    QFETCH(int, mode);
    QFETCH(int, stat);
    QFETCH(QString, lac);
    QFETCH(QString, cellId);
    const auto r = at::parseCreg(line);
    QCOMPARE(r.has_value(), ok);
    if (!r)
        return;
    QCOMPARE(r->mode, mode);
    QCOMPARE(r->stat, stat);
    QCOMPARE(r->lac, lac);
    QCOMPARE(r->cellId, cellId);
    QVERIFY(!registrationText(r->stat).isEmpty());
    QCOMPARE(registrationText(1), QStringLiteral("registered, home network"));
    QCOMPARE(registrationText(5), QStringLiteral("registered, roaming"));
    QCOMPARE(registrationText(3), QStringLiteral("registration denied"));
    QCOMPARE(registrationText(42), QStringLiteral("unknown registration state 42"));
}

void TestAtLine::parseCsq_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("rssi");
    QTest::addColumn<int>("ber");
    QTest::addColumn<int>("dbm");   // 0: none
    QTest::newRow("18,99") << QByteArray("+CSQ: 18,99") << true << 18 << 99 << -77;
    QTest::newRow("0,0") << QByteArray("+CSQ: 0,0") << true << 0 << 0 << -113;
    QTest::newRow("31,7") << QByteArray("+CSQ: 31,7") << true << 31 << 7 << -51;
    QTest::newRow("unknown") << QByteArray("+CSQ: 99,99") << true << 99 << 99 << 0;
    QTest::newRow("rssi 32") << QByteArray("+CSQ: 32,99") << false << 0 << 0 << 0;
    QTest::newRow("ber 8") << QByteArray("+CSQ: 10,8") << false << 0 << 0 << 0;
    QTest::newRow("one value") << QByteArray("+CSQ: 10") << false << 0 << 0 << 0;
    QTest::newRow("negative") << QByteArray("+CSQ: -1,0") << false << 0 << 0 << 0;
    QTest::newRow("wrong prefix") << QByteArray("+CESQ: 1,2") << false << 0 << 0 << 0;
}

void TestAtLine::parseCsq() {
    QFETCH(QByteArray, line);
    QFETCH(bool, ok);
    QFETCH(int, rssi);
    QFETCH(int, ber);
    QFETCH(int, dbm);
    const auto q = at::parseCsq(line);
    QCOMPARE(q.has_value(), ok);
    if (!q)
        return;
    QCOMPARE(q->rssi, rssi);
    QCOMPARE(q->ber, ber);
    QCOMPARE(q->dbm.has_value(), dbm != 0);
    if (dbm)
        QCOMPARE(*q->dbm, dbm);
}

void TestAtLine::parseSimple_data() {
    QTest::addColumn<QString>("parser");
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("expected");   // "<none>": nullopt
    const QString none = QStringLiteral("<none>");
    QTest::newRow("cpin ready") << "cpin" << QByteArray("+CPIN: READY") << "READY";
    QTest::newRow("cpin sim pin") << "cpin" << QByteArray("+CPIN: SIM PIN") << "SIM PIN";
    QTest::newRow("cpin quoted") << "cpin" << QByteArray("+CPIN: \"SIM PUK\"") << "SIM PUK";
    QTest::newRow("cpin no space") << "cpin" << QByteArray("+CPIN:READY") << "READY";
    QTest::newRow("cpin empty") << "cpin" << QByteArray("+CPIN:") << none;
    QTest::newRow("cpin control char") << "cpin" << QByteArray("+CPIN: RE\x01" "ADY") << none;
    QTest::newRow("cops name") << "cops" << QByteArray("+COPS: 0,0,\"Vodafone.de\",7") << "Vodafone.de";
    QTest::newRow("cops numeric") << "cops" << QByteArray("+COPS: 0,2,\"26202\",7") << "26202";
    QTest::newRow("cops none") << "cops" << QByteArray("+COPS: 0") << "";
    QTest::newRow("cops bad mode") << "cops" << QByteArray("+COPS: 9,0,\"x\"") << none;
    QTest::newRow("cops test list") << "cops" << QByteArray("+COPS: (2,\"Vodafone\",\"VF\",\"26202\",7),,(0-4),(0-2)") << none;
    QTest::newRow("cmgs 17") << "cmgs" << QByteArray("+CMGS: 17") << "17";
    QTest::newRow("cmgs 255") << "cmgs" << QByteArray("+CMGS: 255") << "255";
    QTest::newRow("cmgs with scts") << "cmgs" << QByteArray("+CMGS: 214,\"11/01/11,17:59:15+04\"") << "214";
    QTest::newRow("cmgs 256") << "cmgs" << QByteArray("+CMGS: 256") << none;
    QTest::newRow("cmgs text") << "cmgs" << QByteArray("+CMGS: ok") << none;
    QTest::newRow("csca international") << "csca" << QByteArray("+CSCA: \"+491710760000\",145") << "+491710760000";
    QTest::newRow("csca 145 without plus") << "csca" << QByteArray("+CSCA: \"491710760000\",145") << "+491710760000";
    QTest::newRow("csca national") << "csca" << QByteArray("+CSCA: \"01710760000\",129") << "01710760000";
    QTest::newRow("csca ucs2") << "csca" << QByteArray("+CSCA: \"002B00340039\",145") << "+49";
    QTest::newRow("csca empty") << "csca" << QByteArray("+CSCA: \"\",129") << "";
    QTest::newRow("csca unquoted") << "csca" << QByteArray("+CSCA: 4917,145") << none;
    QTest::newRow("csca letters") << "csca" << QByteArray("+CSCA: \"+49abc\",145") << none;
    QTest::newRow("pdu length cmt") << "pdulength" << QByteArray("+CMT: ,25") << "25";
    QTest::newRow("pdu length cmt alpha") << "pdulength" << QByteArray("+CMT: \"Alice\",24") << "24";
    QTest::newRow("pdu length cds") << "pdulength" << QByteArray("+CDS: 25") << "25";
    QTest::newRow("pdu length cds text mode") << "pdulength" << QByteArray("+CDS: 6,214,\"+3162\",145") << none;
    QTest::newRow("pdu length cmt text mode") << "pdulength" << QByteArray("+CMT: \"+4917\",,\"24/01/01,10:00:00+04\"") << none;
    QTest::newRow("pdu length zero") << "pdulength" << QByteArray("+CDS: 0") << none;
    QTest::newRow("pdu length other") << "pdulength" << QByteArray("+CMGR: 0,,29") << none;
}

void TestAtLine::parseSimple() {
    QFETCH(QString, parser);
    QFETCH(QByteArray, line);
    QFETCH(QString, expected);
    std::optional<QString> got;
    if (parser == QLatin1String("cpin"))
        got = parseCpin(line);
    else if (parser == QLatin1String("cops"))
        got = parseCops(line);
    else if (parser == QLatin1String("csca"))
        got = parseCsca(line);
    else if (parser == QLatin1String("cmgs")) {
        if (const auto v = parseCmgs(line))
            got = QString::number(*v);
    } else if (parser == QLatin1String("pdulength")) {
        if (const auto v = parsePduLength(line))
            got = QString::number(*v);
    } else {
        QFAIL("unknown parser");
    }
    QCOMPARE(got.value_or(QStringLiteral("<none>")), expected);
}

void TestAtLine::parseCpms_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("expected");   // "mem:used/total;..." ; empty: failure
    QTest::newRow("set reply") << QByteArray("+CPMS: 3,30,3,30,3,30") << ":3/30;:3/30;:3/30";
    QTest::newRow("query reply") << QByteArray("+CPMS: \"SM\",3,30,\"ME\",0,100,\"SM\",3,30") << "SM:3/30;ME:0/100;SM:3/30";
    QTest::newRow("two memories") << QByteArray("+CPMS: 1,20,1,20") << ":1/20;:1/20";
    QTest::newRow("used > total") << QByteArray("+CPMS: 31,30") << "";
    QTest::newRow("odd count") << QByteArray("+CPMS: 3,30,3") << "";
    QTest::newRow("names mixed") << QByteArray("+CPMS: \"SM\",3,30,3,30,1") << "";
    QTest::newRow("empty") << QByteArray("+CPMS:") << "";
    QTest::newRow("test reply is not a use reply") << QByteArray("+CPMS: (\"SM\"),(\"SM\"),(\"SM\")") << "";
}

void TestAtLine::parseCpms() {
    QFETCH(QByteArray, line);
    QFETCH(QString, expected);
    QStringList parts;
    for (const StorageUse &s : at::parseCpms(line))
        parts.append(QStringLiteral("%1:%2/%3").arg(s.memory).arg(s.used).arg(s.total));
    QCOMPARE(parts.join(QLatin1Char(';')), expected);
}

void TestAtLine::parseCpmsTest_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("expected");   // groups joined by ';', names by ','
    QTest::newRow("three groups") << QByteArray("+CPMS: (\"SM\",\"ME\"),(\"SM\"),(\"SM\")") << "SM,ME;SM;SM";
    QTest::newRow("four memories") << QByteArray("+CPMS: (\"ME\",\"MT\",\"SM\",\"SR\"),(\"ME\",\"MT\",\"SM\",\"SR\"),(\"ME\",\"MT\",\"SM\",\"SR\")")
                                   << "ME,MT,SM,SR;ME,MT,SM,SR;ME,MT,SM,SR";
    QTest::newRow("nokia empty lists") << QByteArray("+CPMS: (),(),()") << ";;";
    QTest::newRow("unbalanced") << QByteArray("+CPMS: (\"SM\",(\"SM\")") << "";
    QTest::newRow("not a test reply") << QByteArray("+CPMS: 3,30,3,30") << "";
}

void TestAtLine::parseCpmsTest() {
    QFETCH(QByteArray, line);
    QFETCH(QString, expected);
    QStringList groups;
    for (const QStringList &g : at::parseCpmsTest(line))
        groups.append(g.join(QLatin1Char(',')));
    QCOMPARE(groups.join(QLatin1Char(';')), expected);
}

void TestAtLine::parseCnmiTest_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("expected");
    QTest::newRow("SIM800") << QByteArray("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)") << "0,1,2,3;0,1,2,3;0,2;0,1,2;0,1";
    QTest::newRow("MC75i bfr 1 only") << QByteArray("+CNMI: (0-2),(0-3),(0,2,3),(0-2),(1)") << "0,1,2;0,1,2,3;0,2,3;0,1,2;1";
    QTest::newRow("bare values") << QByteArray("+CNMI: 2,(1,2),0,(1),0") << "2;1,2;0;1;0";
    QTest::newRow("four groups") << QByteArray("+CNMI: (1,2),(0-2),(0),(0,1)") << "1,2;0,1,2;0;0,1";
    QTest::newRow("reversed range") << QByteArray("+CNMI: (3-0),(0-3)") << "";
    QTest::newRow("junk") << QByteArray("+CNMI: (a-b)") << "";
    QTest::newRow("huge range") << QByteArray("+CNMI: (0-99999)") << "";
    QTest::newRow("empty") << QByteArray("+CNMI:") << "";
}

void TestAtLine::parseCnmiTest() {
    QFETCH(QByteArray, line);
    QFETCH(QString, expected);
    QStringList groups;
    for (const QList<int> &g : at::parseCnmiTest(line)) {
        QStringList v;
        for (int x : g)
            v.append(QString::number(x));
        groups.append(v.join(QLatin1Char(',')));
    }
    QCOMPARE(groups.join(QLatin1Char(';')), expected);
}

void TestAtLine::parseListed_data() {
    QTest::addColumn<bool>("cmgl");
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("expected");   // "index/stat/length"; empty: nullopt
    QTest::newRow("cmgl pdu") << true << QByteArray("+CMGL: 1,0,,29") << "1/0/29";
    QTest::newRow("cmgl with alpha") << true << QByteArray("+CMGL: 12,1,\"Bob\",24") << "12/1/24";
    QTest::newRow("cmgl text mode") << true << QByteArray("+CMGL: 3,\"REC READ\",\"+4917\",,\"24/01/01,10:00:00+04\"") << "3/1/0";
    QTest::newRow("cmgl bad stat") << true << QByteArray("+CMGL: 1,7,,29") << "";
    QTest::newRow("cmgl no length") << true << QByteArray("+CMGL: 1,0") << "";
    QTest::newRow("cmgl bad text stat") << true << QByteArray("+CMGL: 1,\"NEW\",\"+49\"") << "";
    QTest::newRow("cmgr pdu") << false << QByteArray("+CMGR: 0,,29") << "-1/0/29";
    QTest::newRow("cmgr text mode") << false << QByteArray("+CMGR: \"REC UNREAD\",\"+49\",,\"24/01/01,10:00:00+04\"") << "-1/0/0";
    QTest::newRow("cmgr zero length") << false << QByteArray("+CMGR: 0,,0") << "";
    QTest::newRow("cmgr too many") << false << QByteArray("+CMGR: 0,,29,1") << "";
    QTest::newRow("cmgr empty") << false << QByteArray("+CMGR:") << "";
}

void TestAtLine::parseListed() {
    QFETCH(bool, cmgl);
    QFETCH(QByteArray, line);
    QFETCH(QString, expected);
    const auto m = cmgl ? parseCmgl(line) : parseCmgr(line);
    QCOMPARE(m ? QStringLiteral("%1/%2/%3").arg(m->index).arg(m->stat).arg(m->length) : QString(), expected);
}

void TestAtLine::chooseCnmi_data() {
    QTest::addColumn<QByteArray>("test");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("SIM800: preferred") << QByteArray("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)") << QByteArray("2,1,0,2,0");
    QTest::newRow("MC75i: bfr 1 only") << QByteArray("+CNMI: (0-2),(0-3),(0,2,3),(0-2),(1)") << QByteArray("2,1,0,2,1");
    QTest::newRow("no ds 2: ds 1") << QByteArray("+CNMI: (1,2),(0-3),(0),(0,1),(0)") << QByteArray("2,1,0,1,0");
    QTest::newRow("mode 1 only, mt 3") << QByteArray("+CNMI: (1),(0,3),(0),(0),(0)") << QByteArray("1,3,0,0,0");
    QTest::newRow("four parameters") << QByteArray("+CNMI: (0-2),(0-3),(0),(0-2)") << QByteArray("2,1,0,2");
    QTest::newRow("bm without 0") << QByteArray("+CNMI: (2),(1),(2,3),(2),(0)") << QByteArray("2,1,2,2,0");
    QTest::newRow("empty ds list") << QByteArray("+CNMI: (2),(1),(0),(),(0)") << QByteArray("2,1,0");
    QTest::newRow("mt only 2 (needs CNMA)") << QByteArray("+CNMI: (2),(2),(0),(0),(0)") << QByteArray();
    QTest::newRow("mode 0 only") << QByteArray("+CNMI: (0),(1),(0),(0),(0)") << QByteArray();
    QTest::newRow("one group") << QByteArray("+CNMI: (0-2)") << QByteArray();
    QTest::newRow("unparsable") << QByteArray("+CNMI: junk") << QByteArray();
}

void TestAtLine::chooseCnmi() {
    QFETCH(QByteArray, test);
    QFETCH(QByteArray, expected);
    QCOMPARE(at::chooseCnmi(at::parseCnmiTest(test)), expected);
}

void TestAtLine::quoted_data() {
    QTest::addColumn<QString>("value");
    QTest::addColumn<QByteArray>("expected");   // empty: rejected
    QTest::newRow("pin") << "1234" << QByteArray("\"1234\"");
    QTest::newRow("number") << "+491701234567" << QByteArray("\"+491701234567\"");
    QTest::newRow("memory") << "SM" << QByteArray("\"SM\"");
    QTest::newRow("empty") << "" << QByteArray("\"\"");
    QTest::newRow("quote") << "12\"34" << QByteArray();
    QTest::newRow("backslash") << "12\\34" << QByteArray();
    QTest::newRow("CR injection") << "1234\r\nAT+CFUN=0" << QByteArray();
    QTest::newRow("ctrl-z") << "12\x1a" << QByteArray();
    QTest::newRow("non-ASCII") << QString::fromUtf8("Müller") << QByteArray();
    QTest::newRow("too long") << QString(300, QLatin1Char('1')) << QByteArray();
}

void TestAtLine::quoted() {
    QFETCH(QString, value);
    QFETCH(QByteArray, expected);
    const auto q = at::quoted(value);
    QCOMPARE(q.value_or(QByteArray()), expected);
}

QTEST_GUILESS_MAIN(TestAtLine)
#include "tst_atline.moc"
