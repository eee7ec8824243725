// JT/T 808 decoding of every real vector (tests/data/jt808_vectors.tsv), replies, downlink
// encoders checked byte for byte against captured/hand-verified frames, device-side encoders
// round-tripped through the decoder.
#include "jt808_vectors.h"

#include "trackerdesk/protocol/jt808.h"
#include "trackerdesk/protocol/protocol.h"

#include <QRegularExpression>
#include <QTest>
#include <QTimeZone>

using namespace td::proto;
namespace j = td::proto::jt808;

namespace {

const Field *findField(const QList<Field> &fields, const QString &name) {
    for (const Field &f : fields) {
        if (f.name == name)
            return &f;
        if (const Field *c = findField(f.children, name))
            return c;
    }
    return nullptr;
}

QList<const Field *> findFields(const QList<Field> &fields, const QString &name) {
    QList<const Field *> out;
    for (const Field &f : fields) {
        if (f.name == name)
            out << &f;
        out << findFields(f.children, name);
    }
    return out;
}

QByteArray hx(const char *s) { return QByteArray::fromHex(QByteArray(s)); }

QDateTime utc(const QString &s) {
    QDateTime t = QDateTime::fromString(s, QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    t.setTimeZone(QTimeZone::UTC);
    return t;
}

const Protocol &proto() { return j::protocol(); }

DecodedFrame decode(const QByteArray &b, SessionOptions o = {}) { return proto().decodeFrame(b, o); }

// Which reply the fact sheet (section 13) requires for each uplink message id.
int expectedReplyId(int id) {
    switch (id) {
    case 0x0002: case 0x0003: case 0x0102: case 0x0200: case 0x0704:
    case 0x0900: case 0x0107: case 0x1007: case 0x6006:
        return 0x8001;
    case 0x0100: return 0x8100;
    case 0x0109: return 0x8109;
    case 0x0004: return 0x8004;
    default: return -1;
    }
}

// Attribute expectations of the Traccar tests that this decoder does not reproduce, with why.
// Every other "attribute KEY_..." row is asserted below; an unknown one fails the test.
const QHash<QString, QString> &notAsserted() {
    static const QHash<QString, QString> h = {
        {QStringLiteral("T002"), QStringLiteral("external power: no Status field (shown as sub-item 0x002d)")},
        {QStringLiteral("T003"), QStringLiteral("external power: no Status field (shown as item 0xE1)")},
        {QStringLiteral("T010"), QStringLiteral("'removing' comes from vendor sub-item 0x0089 bits")},
        {QStringLiteral("T011"), QStringLiteral("vibration comes from vendor sub-item bits, alarm word is 0")},
        {QStringLiteral("T012"), QStringLiteral("motion is a Traccar-derived attribute")},
        {QStringLiteral("T013"), QStringLiteral("time zone attribute of a vendor item")},
        {QStringLiteral("T014"), QStringLiteral("RPM from vendor item 0xE3")},
        {QStringLiteral("T015"), QStringLiteral("video alarm from vendor item 0x14")},
        {QStringLiteral("T017"), QStringLiteral("motion is a Traccar-derived attribute")},
        {QStringLiteral("T020"), QStringLiteral("driver id inside vendor 0x0900 text")},
        {QStringLiteral("T023"), QStringLiteral("OBD text inside vendor 0x0900")},
        {QStringLiteral("T036"), QStringLiteral("driver id from vendor item 0x66")},
        {QStringLiteral("T040"), QStringLiteral("DTCs inside vendor 0x0900 F0 payload")},
        {QStringLiteral("T042"), QStringLiteral("event from vendor item 0x60")},
        {QStringLiteral("T051"), QStringLiteral("acceleration alarm from vendor item 0xFE")},
        {QStringLiteral("T058"), QStringLiteral("DTCs from vendor OBD items")},
        {QStringLiteral("T066"), QStringLiteral("external power from a vendor item")},
        {QStringLiteral("T074"), QStringLiteral("battery inside vendor item 0x33")},
        {QStringLiteral("T094"), QStringLiteral("charge from a vendor status bit")},
        {QStringLiteral("T095"), QStringLiteral("external power from vendor items")},
        {QStringLiteral("T096"), QStringLiteral("external power from vendor item 0x82")},
        {QStringLiteral("T103"), QStringLiteral("model-specific door bit (MV710G)")},
        {QStringLiteral("T104"), QStringLiteral("model-specific door bit (MV710G)")},
        {QStringLiteral("T105"), QStringLiteral("model-specific alarm mapping (AL300)")},
        {QStringLiteral("T106"), QStringLiteral("battery from vendor item 0xE8 (JC371)")},
        {QStringLiteral("T107"), QStringLiteral("SOS from vendor item 0xE8 (JC371)")},
        {QStringLiteral("T108"), QStringLiteral("vibration from vendor item 0xE8 (JC371)")},
        {QStringLiteral("T110"), QStringLiteral("steps from a vendor item (C5L)")},
        {QStringLiteral("T111"), QStringLiteral("ICCID from vendor item 0xF0 (GL100)")},
        {QStringLiteral("T113"), QStringLiteral("device temperature inside vendor 0x0900 (GL100)")},
        {QStringLiteral("T019"), QStringLiteral("tyre pressure from vendor item 0x77")},
        {QStringLiteral("T027"), QStringLiteral("temperature from vendor items 0xF0..0xF9")},
        {QStringLiteral("T028"), QStringLiteral("temperature from vendor item 0x51")},
        {QStringLiteral("T030"), QStringLiteral("temperature from vendor item 0x51")},
        {QStringLiteral("T050"), QStringLiteral("temperature from vendor items 0xE5..0xE7")},
        {QStringLiteral("T033"), QStringLiteral("e-lock unlock result from a vendor item of 0x5501")},
        {QStringLiteral("T037"), QStringLiteral("lock battery from vendor item 0x6C")},
        {QStringLiteral("T044"), QStringLiteral("driver licence from vendor items 0xBC/0xBD")},
        {QStringLiteral("T045"), QStringLiteral("tilt from item 0x0C of 0x5501 (shown as hex)")},
        {QStringLiteral("T054"), QStringLiteral("lock state from vendor items")},
        {QStringLiteral("T072"), QStringLiteral("fuel sensor from vendor item 0x57/0xEB")},
        {QStringLiteral("T073"), QStringLiteral("fuel sensor from vendor item 0x57/0xEB")},
        {QStringLiteral("T099"), QStringLiteral("IMEI from vendor item 0xF6")},
        {QStringLiteral("T109"), QStringLiteral("alarm label from vendor item 0x64 (JC371)")},
        {QStringLiteral("T112"), QStringLiteral("BLE tag from vendor 0x0900 (GL100)")},
    };
    return h;
}

} // namespace

class TestJt808 : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void vectors_data();
    void vectors();
    void timeZone();
    void downlinkDirection();
    void forced2013();
    void replyBytes_data();
    void replyBytes();
    void loggedReplyPairs();
    void timeReplies();
    void commandEncoders();
    void terminalIds();
    void deviceEncodersRoundTrip();
    void locationRoundTrip_data();
    void locationRoundTrip();
    void textSentences();

private:
    QList<Jt808Vector> m_vectors;
};

void TestJt808::initTestCase() {
    QString err;
    m_vectors = loadJt808Vectors(&err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(m_vectors.size(), 134);
}

void TestJt808::vectors_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < m_vectors.size(); ++i)
        if (!m_vectors[i].isEscapeOnly())
            QTest::newRow(qPrintable(m_vectors[i].id())) << i;
}

void TestJt808::vectors() {
    QFETCH(int, index);
    const Jt808Vector &v = m_vectors[index];
    const DecodedFrame f = decode(v.bytes);
    QCOMPARE(f.protocol, QStringLiteral("jt808"));
    const QString coverage = checkFieldCoverage(f.fields, int(f.bytes.size()));
    QVERIFY2(coverage.isEmpty(), qPrintable(coverage));
    const QString tree = formatFieldTree(f);
    QVERIFY(!tree.isEmpty());
    // Each problem is said once (T019's three unescaped 7E were listed twice, in two warnings).
    QStringList once = f.warnings;
    QVERIFY2(once.removeDuplicates() == 0, qPrintable(f.warnings.join(QStringLiteral(" | "))));
    for (const QString &w : f.warnings)
        for (const QString &other : f.warnings)
            QVERIFY2(&w == &other || !w.contains(other), qPrintable(f.warnings.join(QStringLiteral(" | "))));

    if (v.isText()) {
        const QString sentence = v["decoded_summary"].mid(1, v["decoded_summary"].size() - 2);
        QCOMPARE(QString::fromLatin1(f.bytes), sentence);
        QVERIFY2(f.ok(), qPrintable(f.warnings.join(QStringLiteral("; "))));
        QCOMPARE(f.message.deviceId, sentence.mid(1, sentence.indexOf(QLatin1Char(',')) - 1));
        QVERIFY(f.message.positions.isEmpty());
        if (sentence.contains(QLatin1String("BASE,2,TIME"))) {
            QCOMPARE(f.replies.size(), 1);
            QVERIFY(!f.replies[0].contains("TIME"));
            QCOMPARE(f.replies[0].size(), sentence.size() - 4 + 14);
        } else {
            QVERIFY(f.replies.isEmpty());
            QCOMPARE(f.message.text, sentence);   // KEY_RESULT
        }
        return;
    }

    const int id = v.messageId();
    const bool shortSerial = id == 0x5501 || id == 0x5502;
    QCOMPARE(f.type, id);
    // Serial: the 0x55xx rows were tabulated with a 2-byte serial; ours is the first byte.
    const int serialColumn = v["serial"].toInt();
    QCOMPARE(f.serial, shortSerial ? serialColumn >> 8 : serialColumn);

    // Terminal id: BCD digits with leading zeros, or Traccar's IMEI rule for non-BCD ids.
    const QString phone = v["phone_bcd"];
    static const QRegularExpression digitsOnly(QStringLiteral("^[0-9]+$"));
    if (digitsOnly.match(phone).hasMatch()) {
        QCOMPARE(f.message.deviceId, phone);
    } else {
        QCOMPARE(f.message.deviceId.size(), 15);
        bool ok = false;
        QCOMPARE(f.message.deviceId.left(14).toULongLong(), phone.toULongLong(&ok, 16));
        QVERIFY(ok);
        int sum = 0;   // Luhn over all 15 digits
        for (int i = 0; i < 15; ++i) {
            int d = f.message.deviceId[14 - i].digitValue();
            if (i % 2) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
        }
        QCOMPARE(sum % 10, 0);
    }

    // Version and header layout.
    const Field *header = findField(f.fields, QStringLiteral("Header"));
    QVERIFY(header);
    if (v["version"].startsWith(QLatin1String("2019"))) {
        QCOMPARE(header->value, QStringLiteral("2019"));
        const Field *pv = findField(f.fields, QStringLiteral("Protocol version"));
        QVERIFY(pv);
        QCOMPARE(pv->value, QStringLiteral("1"));
    } else {
        QCOMPARE(header->value, QStringLiteral("2013"));
    }

    // Body length as declared, and consistent (the 0x55xx rows are consistent with a 1-byte serial).
    const Field *bl = findField(f.fields, QStringLiteral("Bits 0-9: Body length"));
    QVERIFY(bl);
    QCOMPARE(bl->value.toInt(), v["body_len_hdr"].toInt());
    const bool lengthWarned = f.warnings.filter(QStringLiteral("body length")).size() > 0;
    QCOMPARE(lengthWarned, !(v["body_len_ok"] == QLatin1String("True") || shortSerial));

    // Checksum: mismatches are warnings, the frame is still decoded.
    const bool checksumWarned = f.warnings.filter(QStringLiteral("checksum mismatch")).size() > 0;
    QCOMPARE(checksumWarned, v["check_ok"] != QLatin1String("True"));
    const Field *cs = findField(f.fields, QStringLiteral("Checksum"));
    QVERIFY(cs);
    QCOMPARE(cs->value.left(4), QStringLiteral("0x") + v["checksum_given"]);

    // Frames quoted post-framing (a raw 0x7e inside) are the only other source of warnings.
    QStringList other = f.warnings;
    const bool lengthBad = v["body_len_ok"] != QLatin1String("True") && !shortSerial;
    other.removeIf([&](const QString &w) { return w.startsWith(QLatin1String("checksum mismatch"))
                                                || w.startsWith(QLatin1String("unescaped 0x7e"))
                                                || w.startsWith(QLatin1String("decoded as an already-unescaped dump"))
                                                || (lengthBad && w.startsWith(QLatin1String("body length"))); });
    QVERIFY2(other.isEmpty(), qPrintable(v.id() + QLatin1String(": ") + other.join(QStringLiteral("; "))));

    // The decoded summary column.
    const QString sum = v["decoded_summary"];
    static const QRegularExpression loc(QStringLiteral(
        "^lat=(\\S+) lon=(\\S+) alt=(-?\\d+) spd=(\\S+)km/h crs=(\\d+) t=(\\S+ \\S+) alarm=0x([0-9a-f]+) status=0x([0-9a-f]+)"));
    static const QRegularExpression batch(QStringLiteral("^count=(\\d+) type=(\\d+) decoded=(\\d+)"));
    static const QRegularExpression batchItem(QStringLiteral("\\((\\S+),(\\S+) (\\S+ \\S+) spd(\\S+)\\)"));
    if (const auto m = loc.match(sum); m.hasMatch()) {
        QCOMPARE(f.message.positions.size(), 1);
        const Position &p = f.message.positions[0];
        QVERIFY(qAbs(p.latitude - m.captured(1).toDouble()) < 1e-6);
        QVERIFY(qAbs(p.longitude - m.captured(2).toDouble()) < 1e-6);
        QCOMPARE(*p.altitude, m.captured(3).toDouble());
        QVERIFY(qAbs(*p.speedKmh - m.captured(4).toDouble()) < 0.051);
        QCOMPARE(*p.course, m.captured(5).toDouble());
        QVERIFY(p.timeValid);
        QCOMPARE(p.time, utc(m.captured(6)).addSecs(-8 * 3600));   // GMT+8 by default
        const quint32 alarm = m.captured(7).toUInt(nullptr, 16);
        const quint32 status = m.captured(8).toUInt(nullptr, 16);
        QCOMPARE(f.message.alarms.isEmpty(), alarm == 0);
        QCOMPARE(p.valid, bool(status & 2));
        QVERIFY(f.message.status);
        QCOMPARE(*f.message.status->acc, bool(status & 1));
        QCOMPARE(f.message.kind, alarm ? MessageKind::Alarm : MessageKind::Position);
        static const QRegularExpression rssi(QStringLiteral("30/1=rssi(\\d+)"));
        static const QRegularExpression sats(QStringLiteral("31/1=sats(\\d+)"));
        static const QRegularExpression odo(QStringLiteral("01/4=odo(\\S+)km"));
        if (const auto r = rssi.match(sum); r.hasMatch())
            QCOMPARE(*f.message.status->gsmSignal, r.captured(1).toInt());
        if (const auto s = sats.match(sum); s.hasMatch())
            QCOMPARE(*p.satellites, s.captured(1).toInt());
        if (const auto o = odo.match(sum); o.hasMatch()) {
            const Field *of = findField(f.fields, QStringLiteral("Odometer"));
            QVERIFY(of);
            QCOMPARE(of->value, o.captured(1) + QStringLiteral(" km"));
        }
    } else if (const auto b = batch.match(sum); b.hasMatch()) {
        QCOMPARE(f.message.positions.size(), b.captured(3).toInt());
        QCOMPARE(findField(f.fields, QStringLiteral("Item count"))->value.toInt(), b.captured(1).toInt());
        auto it = batchItem.globalMatch(sum);
        int i = 0;
        while (it.hasNext()) {
            const auto m = it.next();
            QVERIFY(i < f.message.positions.size());
            const Position &p = f.message.positions[i++];
            QVERIFY(qAbs(p.latitude - m.captured(1).toDouble()) < 1e-6);
            QVERIFY(qAbs(p.longitude - m.captured(2).toDouble()) < 1e-6);
            QCOMPARE(p.time, utc(m.captured(3)).addSecs(-8 * 3600));
            QVERIFY(qAbs(*p.speedKmh - m.captured(4).toDouble()) < 0.051);
        }
        QCOMPARE(i, f.message.positions.size());
    } else if (sum.startsWith(QLatin1String("auth='"))) {
        QCOMPARE(f.message.authCode, sum.mid(6, sum.size() - 7));
        QCOMPARE(f.message.kind, MessageKind::Login);
    } else if (sum.startsWith(QLatin1String("prov="))) {
        static const QRegularExpression reg(QStringLiteral("^prov=(\\d+) city=(\\d+) maker='([^']*)' model='([^']*)'.* color=(\\d+) plate='(.*)'$"));
        const auto m = reg.match(sum);
        QVERIFY2(m.hasMatch(), qPrintable(sum));
        QCOMPARE(f.message.kind, MessageKind::Login);
        QCOMPARE(findField(f.fields, QStringLiteral("Province ID"))->value, m.captured(1));
        QCOMPARE(findField(f.fields, QStringLiteral("City/county ID"))->value, m.captured(2));
        QCOMPARE(f.message.model, m.captured(4).trimmed());
        QVERIFY(findField(f.fields, QStringLiteral("Plate colour"))->value.startsWith(m.captured(5) + QLatin1Char(' ')));
        const QString plate = m.captured(6);
        if (!plate.isEmpty() && !plate.startsWith(QLatin1String("\\x00"))) {
            const Field *pf = findField(f.fields, QStringLiteral("Plate"));
            QVERIFY(pf);
            QCOMPARE(pf->value, QLatin1Char('\'') + plate + QLatin1Char('\''));   // GBK decoded
        }
    } else if (sum.startsWith(QLatin1String("ack_serial="))) {
        static const QRegularExpression ack(QStringLiteral("^ack_serial=(\\d+) ack_id=(0x[0-9a-f]{4}) result=(\\d+)$"));
        const auto m = ack.match(sum);
        QVERIFY(m.hasMatch());
        QCOMPARE(findField(f.fields, QStringLiteral("Ack serial"))->value, m.captured(1));
        QVERIFY(findField(f.fields, QStringLiteral("Ack message ID"))->value.startsWith(m.captured(2)));
        QVERIFY(findField(f.fields, QStringLiteral("Result"))->value.startsWith(m.captured(3) + QLatin1Char(' ')));
    } else if (sum.startsWith(QLatin1String("count="))) {   // 0x8103 parameters
        static const QRegularExpression prm(QStringLiteral("(0x[0-9a-f]{4})\\(len(\\d+)\\)=([0-9a-f]*)"));
        auto it = prm.globalMatch(sum);
        const QList<const Field *> ids = findFields(f.fields, QStringLiteral("Parameter ID"));
        int n = 0;
        while (it.hasNext()) {
            const auto m = it.next();
            QVERIFY(n < ids.size());
            QCOMPARE(ids[n]->value, QStringLiteral("0x0000") + m.captured(1).mid(2));
            const Field *value = nullptr;
            for (const Field &top : f.fields)
                for (const Field &c : top.children)
                    if (c.children.size() == 3 && c.children[0].offset == ids[n]->offset)
                        value = &c.children[2];
            QVERIFY(value);
            QCOMPARE(value->length, m.captured(2).toInt());
            QCOMPARE(f.bytes.mid(value->offset, value->length).toHex(), m.captured(3).toLatin1());
            ++n;
        }
        QCOMPARE(n, ids.size());
        QVERIFY(n > 0);
    } else if (sum.startsWith(QLatin1String("heartbeat body="))) {
        QCOMPARE(f.message.kind, MessageKind::Heartbeat);
        QVERIFY(!findField(f.fields, QStringLiteral("Body")));
    } else if (sum.startsWith(QLatin1String("flag="))) {
        static const QRegularExpression txt(QStringLiteral("^flag=0x([0-9a-f]{2}) text='(.*)'$"));
        const auto m = txt.match(sum);
        QVERIFY(m.hasMatch());
        QCOMPARE(f.message.text, m.captured(2));
        QCOMPARE(findField(f.fields, QStringLiteral("Flag"))->value, QStringLiteral("0x") + m.captured(1));
    } else if (sum.startsWith(QLatin1String("body="))) {
        const Field *body = findField(f.fields, QStringLiteral("Body"));
        const QByteArray expected = sum.mid(5).toLatin1();
        if (expected.isEmpty()) {
            QVERIFY(!body);
        } else {
            QVERIFY(body);
            QByteArray ours = f.bytes.mid(body->offset, body->length).toHex();
            if (shortSerial)
                ours = ours.mid(2);   // the column's body starts one byte later (2-byte serial layout)
            QVERIFY2(ours.startsWith(expected), qPrintable(QString::fromLatin1(ours)));
        }
    } else {
        QFAIL(qPrintable(QStringLiteral("unhandled decoded_summary: ") + sum));
    }

    // What the Traccar test checks.
    const QString method = v["test_method"];
    const QString checks = v["what_test_checks"];
    if (method == QLatin1String("verifyNull"))
        QVERIFY(f.message.positions.isEmpty());
    if (method == QLatin1String("verifyPosition") || method == QLatin1String("verifyPositions")
        || method == QLatin1String("verifyAttributes") || (method == QLatin1String("verifyNotNull") && id != 0x2070)) {
        if (id == 0x0900) {
            QVERIFY(notAsserted().contains(v.id()) || v.id() == QLatin1String("T046") || v.id() == QLatin1String("T055"));
            QVERIFY(f.message.positions.isEmpty());   // vendor F0 payloads are shown, not decoded
        } else {
            QVERIFY(!f.message.positions.isEmpty());
            if (method == QLatin1String("verifyPosition"))
                QCOMPARE(f.message.positions.size(), 1);
            for (const Position &p : f.message.positions) {
                QVERIFY(qAbs(p.latitude) <= 90 && qAbs(p.longitude) <= 180);
                QVERIFY(p.timeValid && p.time.isValid());
                QVERIFY(p.time.date().year() >= 2010 && p.time.date().year() <= 2030);
            }
        }
    }
    static const QRegularExpression attr(QStringLiteral("^attribute (KEY_\\w+|\"\\w+\"), (.+)$"));
    if (method == QLatin1String("verifyAttribute") && !notAsserted().contains(v.id())) {
        const auto m = attr.match(checks);
        QVERIFY(m.hasMatch());
        const QString key = m.captured(1);
        QString value = m.captured(2);
        if (value.startsWith(QLatin1Char('"')))
            value = value.mid(1, value.size() - 2);
        if (key == QLatin1String("KEY_SATELLITES")) {
            bool found = false;
            for (const Position &p : f.message.positions)
                found = found || (p.satellites && *p.satellites == value.toInt());
            QVERIFY(found);
        } else if (key == QLatin1String("KEY_BATTERY_LEVEL")) {
            QVERIFY(f.message.status && f.message.status->batteryPercent);
            QCOMPARE(*f.message.status->batteryPercent, value.toInt());
        } else if (key == QLatin1String("KEY_BATTERY")) {
            QVERIFY(f.message.status && f.message.status->batteryVolts);
            QVERIFY(qAbs(*f.message.status->batteryVolts - value.toDouble()) < 1e-6);
        } else if (key == QLatin1String("KEY_RESULT")) {
            // T024: the device sends "Nov  4" (C __DATE__), the Traccar expectation reads "Nov 4".
            QCOMPARE(f.message.text.simplified(), value.simplified());
            QCOMPARE(f.message.kind, MessageKind::CommandReply);
        } else if (key == QLatin1String("KEY_ICCID")) {
            const Field *icc = findField(f.fields, QStringLiteral("ICCID"));
            QVERIFY(icc);
            QCOMPARE(icc->value, value);
        } else if (key == QLatin1String("KEY_CHARGE")) {
            QVERIFY(f.message.status && f.message.status->charging);
            QCOMPARE(*f.message.status->charging, true);
        } else if (key == QLatin1String("KEY_ALARM")) {
            static const QHash<QString, QString> names = {
                {QStringLiteral("ALARM_TAMPERING"), QStringLiteral("tampering")},
                {QStringLiteral("ALARM_LOW_BATTERY"), QStringLiteral("lowBattery")},
                {QStringLiteral("ALARM_SOS"), QStringLiteral("sos")},
                {QStringLiteral("ALARM_VIBRATION"), QStringLiteral("vibration")},
            };
            // T057 also expects "removing", which comes from vendor sub-item bits.
            const QString first = value.section(QLatin1Char(' '), 0, 0);
            QVERIFY2(names.contains(first), qPrintable(first));
            QVERIFY2(f.message.alarms.contains(names[first]), qPrintable(f.message.alarms.join(QLatin1Char(','))));
        } else if (key == QLatin1String("\"cardCode\"")) {
            QCOMPARE(findField(f.fields, QStringLiteral("Qualification certificate code"))->value,
                     QLatin1Char('\'') + value + QLatin1Char('\''));
        } else {
            QFAIL(qPrintable(QStringLiteral("%1: expectation %2 neither asserted nor listed in notAsserted()").arg(v.id(), checks)));
        }
    }

    // Replies (fact sheet section 13): decode each back as a downlink.
    const int replyId = f.message.kind == MessageKind::Downlink ? -1 : expectedReplyId(id);
    if (replyId < 0) {
        QVERIFY(f.replies.isEmpty());
    } else {
        QCOMPARE(f.replies.size(), 1);
        SessionOptions down;
        down.direction = Direction::ToDevice;
        const DecodedFrame r = decode(f.replies[0], down);
        QVERIFY2(r.ok(), qPrintable(r.warnings.join(QStringLiteral("; "))));
        QVERIFY(checkFieldCoverage(r.fields, int(r.bytes.size())).isEmpty());
        QCOMPARE(r.type, replyId);
        QCOMPARE(r.message.kind, MessageKind::Downlink);
        QCOMPARE(r.message.deviceId, f.message.deviceId);
        QCOMPARE(r.serial, 0);
        QVERIFY(r.replies.isEmpty());
        if (replyId == 0x8001) {
            QCOMPARE(findField(r.fields, QStringLiteral("Ack serial"))->value.toInt(), f.serial);
            QVERIFY(findField(r.fields, QStringLiteral("Ack message ID"))->value.startsWith(v["msg_id"]));
            QVERIFY(findField(r.fields, QStringLiteral("Result"))->value.startsWith(QLatin1String("0 ")));
        } else if (replyId == 0x8100) {
            QCOMPARE(findField(r.fields, QStringLiteral("Ack serial"))->value.toInt(), f.serial);
            QCOMPARE(r.message.authCode, f.message.deviceId);
        }
    }
}

void TestJt808::timeZone() {
    const Jt808Vector &t004 = m_vectors[3];
    QCOMPARE(t004.id(), QStringLiteral("T004"));
    SessionOptions o;
    o.timeZoneMinutes = 0;
    QCOMPARE(decode(t004.bytes, o).message.positions[0].time, utc(QStringLiteral("2020-08-07 18:07:22")));
    o.timeZoneMinutes = -300;
    QCOMPARE(decode(t004.bytes, o).message.positions[0].time, utc(QStringLiteral("2020-08-07 23:07:22")));
    QCOMPARE(decode(t004.bytes).message.positions[0].time, utc(QStringLiteral("2020-08-07 10:07:22")));
    const DecodedFrame f = decode(t004.bytes);
    const Field *tf = findField(f.fields, QStringLiteral("Time"));
    QCOMPARE(tf->value, QStringLiteral("2020-08-07 18:07:22 (UTC+08:00) = 2020-08-07 10:07:22 UTC"));
}

void TestJt808::downlinkDirection() {
    SessionOptions down;
    down.direction = Direction::ToDevice;
    for (const Jt808Vector &v : std::as_const(m_vectors)) {
        if (v.isEscapeOnly())
            continue;
        const DecodedFrame f = decode(v.bytes, down);
        QVERIFY2(f.replies.isEmpty(), qPrintable(v.id()));
        QCOMPARE(f.message.kind, MessageKind::Downlink);
        QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
    }
    // 0x8105 reboot: decoded with fields.
    const DecodedFrame reboot = decode(hx("7e81050001024530313349000004bd7e"), down);
    QVERIFY(reboot.ok());
    QCOMPARE(findField(reboot.fields, QStringLiteral("Command"))->value, QStringLiteral("0x04 (reset)"));
    QCOMPARE(reboot.typeName, QStringLiteral("Terminal control"));
}

void TestJt808::forced2013() {
    // A device that sets the 2019 bit but sends a 2013 header (facts: 7E0102400C010030000681...).
    QByteArray c = hx("0102400c010030000681000131323334353637386162636400");
    c.chop(1);
    c.append(char(j::checksum(c)));
    const QByteArray wire = QByteArray(1, 0x7E) + j::escape(c) + QByteArray(1, 0x7E);
    const DecodedFrame f = decode(wire);
    QVERIFY2(f.ok(), qPrintable(f.warnings.join(QStringLiteral("; "))));
    QCOMPARE(f.message.deviceId, QStringLiteral("010030000681"));
    QCOMPARE(f.message.authCode, QStringLiteral("12345678abcd"));
    QCOMPARE(findField(f.fields, QStringLiteral("Header"))->value, QStringLiteral("2013 (2019 flag set)"));
    QCOMPARE(f.replies.size(), 1);
    // The reply uses the 2013 layout the device actually speaks.
    const QByteArray expected = [&] {
        QByteArray r = hx("8001000501003000068100000001010200");
        r.append(char(j::checksum(r)));
        return QByteArray(1, 0x7E) + j::escape(r) + QByteArray(1, 0x7E);
    }();
    QCOMPARE(f.replies[0].toHex(), expected.toHex());
}

void TestJt808::replyBytes_data() {
    QTest::addColumn<QByteArray>("actual");
    QTest::addColumn<QByteArray>("expected");
    const auto term = [](const char *id, bool v2019 = false) { return *j::terminalFromId(QString::fromLatin1(id), v2019); };
    // go-jt808 reply_test.go: heartbeat serial 0x7fff acknowledged.
    QTest::newRow("8001 heartbeat") << j::encodeGeneralResponse(term("012345678901"), 0, 0x7FFF, 0x0002)
                                    << hx("7e8001000501234567890100007fff0002008e7e");
    QTest::newRow("8001 batch") << j::encodeGeneralResponse(term("012345678901"), 0, 0x7FFF, 0x0704)
                                << hx("7e8001000501234567890100007fff0704008f7e");
    // Traccar PR #5985/#5997 logs.
    QTest::newRow("8001 T121") << j::encodeGeneralResponse(term("014535709217"), 0, 6, 0x0002) << hx("7e8001000501453570921700000006000200047e");
    QTest::newRow("8001 T123") << j::encodeGeneralResponse(term("014535709217"), 0, 11, 0x0102) << hx("7e800100050145357092170000000b010200087e");
    QTest::newRow("8001 T130") << j::encodeGeneralResponse(term("024530313349"), 1, 1, 0x0102) << hx("7e8001000502453031334900010001010200bb7e");
    // SmallChi / go-jt808 register responses.
    QTest::newRow("8100 ok") << j::encodeRegisterResponse(term("012345678900"), 10, 100, 0, "123456")
                             << hx("7E81000009012345678900000A006400313233343536687E");
    QTest::newRow("8100 result 4") << j::encodeRegisterResponse(term("012345678900"), 10, 100, 4, "123456")
                                   << hx("7E81000003012345678900000A006404617E");
    QTest::newRow("8109") << j::encodeTimeSyncResponse(term("000123456789"), 0, utc(QStringLiteral("2024-01-02 03:04:05")))
                          << hx("7e81090008000123456789000007e8010203040500e77e");
    QTest::newRow("8004 2019") << j::encodeServerTime(term("00000000013912344329", true), 0, utc(QStringLiteral("2024-10-03 15:51:06")))
                               << hx("7e8004400601000000000139123443290000241003155106c27e");
    // A checksum of 0x7e is escaped too (SmallChi JT808_0x0002Test).
    QTest::newRow("0002 checksum 7e") << j::encodeHeartbeat(term("040021679287"), 0x2B) << hx("7E00020000040021679287002B7D027E");
}

void TestJt808::replyBytes() {
    QFETCH(QByteArray, actual);
    QFETCH(QByteArray, expected);
    QCOMPARE(actual.toHex(), expected.toHex());
    SessionOptions down;
    down.direction = Direction::ToDevice;
    const DecodedFrame f = decode(actual, down);
    QVERIFY2(f.ok(), qPrintable(f.warnings.join(QStringLiteral("; "))));
    QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
}

void TestJt808::loggedReplyPairs() {
    // Real request -> reply pairs: our computed reply must equal what the device accepted.
    struct Pair { const char *request, *reply; };
    const Pair pairs[] = {
        {"7e000200000145357092170006807e", "7e8001000501453570921700000006000200047e"},
        {"7e0102000c014535709217000b3031343533353730393231378c7e", "7e800100050145357092170000000b010200087e"},
        {"7e000240000100000000017299841738ffff027e", "7e8001400501000000000172998417380000ffff000200867e"},  // 2019 (go-jt808)
    };
    for (const Pair &p : pairs) {
        const DecodedFrame f = decode(hx(p.request));
        QVERIFY2(f.ok(), qPrintable(f.warnings.join(QStringLiteral("; "))));
        QCOMPARE(f.replies.size(), 1);
        QCOMPARE(f.replies[0].toHex(), QByteArray(p.reply));
    }
}

void TestJt808::timeReplies() {
    const j::Terminal t = *j::terminalFromId(QStringLiteral("013586840339"));
    const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-5);
    const DecodedFrame sync = decode(j::buildFrame(j::msg::TimeSyncRequest, t, 1, {}));
    const QDateTime after = QDateTime::currentDateTimeUtc().addSecs(5);
    QVERIFY(sync.ok());
    QCOMPARE(sync.message.kind, MessageKind::TimeRequest);
    QCOMPARE(sync.replies.size(), 1);
    const QByteArray r = sync.replies[0];
    QCOMPARE(r.size(), 2 + 12 + 8 + 1);   // flags, header, 8-byte body, checksum (no escapes in this reply)
    QCOMPARE(r.mid(1, 4).toHex(), QByteArray("81090008"));
    QCOMPARE(r.mid(5, 6).toHex(), QByteArray("013586840339"));
    QCOMPARE(r.mid(11, 2).toHex(), QByteArray("0000"));
    const QByteArray body = r.mid(13, 8);
    const QDateTime got(QDate((quint8(body[0]) << 8) | quint8(body[1]), body[2], body[3]), QTime(body[4], body[5], body[6]), QTimeZone::UTC);
    QVERIFY2(got >= before.addMSecs(-before.time().msec()) && got <= after, qPrintable(got.toString(Qt::ISODate)));
    QCOMPARE(int(body[7]), 0);

    const j::Terminal t19 = *j::terminalFromId(QStringLiteral("13912344329"), true);
    const DecodedFrame q = decode(j::buildFrame(j::msg::QueryServerTime, t19, 7, {}));
    QVERIFY(q.ok());
    QCOMPARE(q.replies.size(), 1);
    SessionOptions down;
    down.direction = Direction::ToDevice;
    const DecodedFrame qr = decode(q.replies[0], down);
    QVERIFY(qr.ok());
    QCOMPARE(qr.type, 0x8004);
    QCOMPARE(findField(qr.fields, QStringLiteral("Header"))->value, QStringLiteral("2019"));
    const QDateTime t8004 = utc(findField(qr.fields, QStringLiteral("UTC time"))->value.left(19));
    QVERIFY(t8004 >= before.addMSecs(-before.time().msec()) && t8004 <= QDateTime::currentDateTimeUtc().addSecs(5));
}

void TestJt808::commandEncoders() {
    const j::Terminal imei = *j::terminalFromId(QStringLiteral("123456789012345"));
    // Traccar Jt808ProtocolEncoderTest.
    QCOMPARE(j::encodeTerminalControl(imei, 0, 0xF0).toHex(), QByteArray("7e810500010b3a73ce2ff20000f0247e"));
    QCOMPARE(j::encodeTextMessage(imei, 0, 0x01, QStringLiteral("Test, Command, 123#")).toHex(),
             hx("7e830000140b3a73ce2ff2000001546573742c20436f6d6d616e642c2031323323a57e").toHex());
    // Real logs (Traccar PR #5985 / #5997).
    const j::Terminal a = *j::terminalFromId(QStringLiteral("014535709217"));
    QCOMPARE(j::encodeSetParameters(a, 0, {j::Parameter::string(0x13, QStringLiteral("188.245.151.94")), j::Parameter::dword(0x18, 5015)}).toHex(),
             QByteArray("7e8103001d014535709217000002000000130e3138382e3234352e3135312e3934000000180400001397887e"));
    QCOMPARE(j::encodeSetParameters(a, 0, {j::Parameter::word(0x55, 0)}).toHex(), QByteArray("7e8103000801453570921700000100000055020000587e"));
    const j::Terminal b = *j::terminalFromId(QStringLiteral("024530313349"));
    QCOMPARE(j::encodeTerminalControl(b, 0, j::control::Reset).toHex(), QByteArray("7e81050001024530313349000004bd7e"));
    QCOMPARE(j::encodeSetParameters(b, 0, {j::Parameter::dword(0x29, 10)}).toHex(), QByteArray("7e8103000a02453031334900000100000029040000000a927e"));
    // SmallChi examples.
    QCOMPARE(j::encodeTextMessage(*j::terminalFromId(QStringLiteral("012345678900")), 1, 5, QStringLiteral("smallchi 518")).toHex(),
             hx("7E8300000D012345678900000105736D616C6C63686920353138027E").toHex());
    QCOMPARE(j::encodeSetParameters(*j::terminalFromId(QStringLiteral("000123456789")), 10, {j::Parameter::dword(1, 10)}).toHex(),
             hx("7E8103000A000123456789000A0100000001040000000A057E").toHex());
    // GBK text, 2019 text type, decoded back.
    const j::Terminal t19 = *j::terminalFromId(QStringLiteral("13912344329"), true);
    const QByteArray gbk = j::encodeTextMessage(t19, 3, 0x08, QStringLiteral("你好 ok"), 2);
    QVERIFY(gbk.contains(hx("c4e3bac3206f6b")));
    SessionOptions down;
    down.direction = Direction::ToDevice;
    const DecodedFrame g = decode(gbk, down);
    QVERIFY(g.ok());
    QCOMPARE(g.message.text, QStringLiteral("你好 ok"));
    QCOMPARE(findField(g.fields, QStringLiteral("Text type"))->value, QStringLiteral("2 (service)"));
    // Limits give errors, not broken frames.
    QString err;
    QVERIFY(j::encodeTextMessage(a, 0, 0, QString(1100, QLatin1Char('x')), 1, &err).isEmpty());
    QVERIFY(err.contains(QLatin1String("1023")));
    err.clear();
    QVERIFY(j::encodeSetParameters(a, 0, {j::Parameter{0x13, QByteArray(300, 'a')}}, &err).isEmpty());
    QVERIFY(!err.isEmpty());
    QCOMPARE(j::parameterName(0x0001), QStringLiteral("Heartbeat interval"));
    QVERIFY(j::parameterName(0xF030).isEmpty());
}

void TestJt808::terminalIds() {
    QCOMPARE(j::terminalFromId(QStringLiteral("123456789012345"))->id.toHex(), QByteArray("0b3a73ce2ff2"));
    QCOMPARE(j::terminalFromId(QStringLiteral("13812345678"))->id.toHex(), QByteArray("013812345678"));
    QCOMPARE(j::terminalFromId(QStringLiteral("17299841738"), true)->id.toHex(), QByteArray("00000000017299841738"));
    QString err;
    QVERIFY(!j::terminalFromId(QStringLiteral("12ab"), false, &err));
    QVERIFY(err.contains(QLatin1String("decimal")));
    QVERIFY(!j::terminalFromId(QStringLiteral("1234567890123456"), false, &err));
    QVERIFY(!j::terminalFromId(QStringLiteral(""), false, &err));
    QCOMPARE(j::terminalIdText(hx("014535709217")), QStringLiteral("014535709217"));
    // 0x0b3a73ce2ff2 = 12345678901234, Luhn digit 7.
    QCOMPARE(j::terminalIdText(hx("0b3a73ce2ff2")), QStringLiteral("123456789012347"));
}

void TestJt808::deviceEncodersRoundTrip() {
    for (const bool v2019 : {false, true}) {
        const j::Terminal t = *j::terminalFromId(QStringLiteral("13812345678"), v2019);
        j::RegisterInfo info;
        info.province = 44;
        info.city = 303;
        info.manufacturer = QStringLiteral("70111");
        info.model = QStringLiteral("TD-SIM");
        info.terminalId = QStringLiteral("0567872");
        info.plateColor = 1;
        info.plate = QStringLiteral("粤B88888");
        const DecodedFrame r = decode(j::encodeRegister(t, 5, info));
        QVERIFY2(r.ok(), qPrintable(r.warnings.join(QStringLiteral("; "))));
        QCOMPARE(r.type, 0x0100);
        QCOMPARE(r.serial, 5);
        QCOMPARE(r.message.kind, MessageKind::Login);
        QCOMPARE(r.message.model, QStringLiteral("TD-SIM"));
        QCOMPARE(r.message.deviceId, v2019 ? QStringLiteral("00000000013812345678") : QStringLiteral("013812345678"));
        QCOMPARE(findField(r.fields, QStringLiteral("Plate"))->value, QStringLiteral("'粤B88888'"));
        QCOMPARE(findField(r.fields, QStringLiteral("City/county ID"))->value, QStringLiteral("303"));
        QCOMPARE(r.replies.size(), 1);
        QCOMPARE(r.replies[0], j::encodeRegisterResponse(t, 0, 5, 0, r.message.deviceId.toLatin1()));

        const DecodedFrame a = decode(j::encodeAuthentication(t, 6, "17299841738", QStringLiteral("123456789012345"), QStringLiteral("3.7.15")));
        QVERIFY(a.ok());
        QCOMPARE(a.message.authCode, QStringLiteral("17299841738"));
        QCOMPARE(a.replies.size(), 1);
        QCOMPARE(a.replies[0], j::encodeGeneralResponse(t, 0, 6, 0x0102));
        if (v2019) {
            QCOMPARE(findField(a.fields, QStringLiteral("IMEI"))->value, QStringLiteral("'123456789012345'"));
            QCOMPARE(findField(a.fields, QStringLiteral("Software version"))->value, QStringLiteral("'3.7.15'"));
        }

        const DecodedFrame h = decode(j::encodeHeartbeat(t, 0xFFFF));
        QVERIFY(h.ok());
        QCOMPARE(h.message.kind, MessageKind::Heartbeat);
        QCOMPARE(h.serial, 0xFFFF);
    }
    // Facts: 2019 authentication "7e0102402f...0b3137323939383431373338...".
    const QByteArray auth19 = j::encodeAuthentication(*j::terminalFromId(QStringLiteral("17299841738"), true), 0, "17299841738",
                                                      QStringLiteral("123456789012345"), QStringLiteral("3.7.15")).toHex();
    QVERIFY(auth19.startsWith("7e0102402f"));
    QVERIFY(auth19.contains("0b3137323939383431373338313233343536373839303132333435332e372e3135"));
}

void TestJt808::locationRoundTrip_data() {
    QTest::addColumn<double>("lat");
    QTest::addColumn<double>("lon");
    QTest::addColumn<QStringList>("alarms");
    QTest::addColumn<int>("tz");
    QTest::newRow("shenzhen") << 22.644830 << 114.029380 << QStringList() << 480;
    QTest::newRow("rio sos") << -22.785836 << -43.758643 << QStringList{QStringLiteral("sos")} << -180;
    QTest::newRow("london power") << 51.5 << -0.125 << QStringList{QStringLiteral("powerCut"), QStringLiteral("lowBattery")} << 0;
    QTest::newRow("7e in data") << 0.000126 << 0.0 << QStringList{QStringLiteral("overspeed"), QStringLiteral("vibration")} << 480;
}

void TestJt808::locationRoundTrip() {
    QFETCH(double, lat);
    QFETCH(double, lon);
    QFETCH(QStringList, alarms);
    QFETCH(int, tz);
    Position p;
    p.time = utc(QStringLiteral("2024-12-28 10:30:00"));
    p.latitude = lat;
    p.longitude = lon;
    p.altitude = -12;
    p.speedKmh = 60.5;
    p.course = 300;
    p.satellites = 12;
    p.valid = true;
    j::LocationOptions lo;
    for (const QString &a : alarms)
        lo.alarmBits |= 1u << *j::alarmBit(a);
    lo.acc = true;
    lo.gsmSignal = 31;
    lo.batteryPercent = 77;
    lo.odometerKm = 120.0;
    lo.timeZoneMinutes = tz;
    const j::Terminal t = *j::terminalFromId(QStringLiteral("013586840339"));
    const QByteArray wire = j::encodeLocation(t, 21, p, lo);
    SessionOptions so;
    so.timeZoneMinutes = tz;
    const DecodedFrame f = decode(wire, so);
    QVERIFY2(f.ok(), qPrintable(f.warnings.join(QStringLiteral("; "))));
    QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
    QCOMPARE(f.message.positions.size(), 1);
    const Position &d = f.message.positions[0];
    QVERIFY(qAbs(d.latitude - lat) < 1e-9);
    QVERIFY(qAbs(d.longitude - lon) < 1e-9);
    QCOMPARE(*d.altitude, -12.0);
    QCOMPARE(*d.speedKmh, 60.5);
    QCOMPARE(*d.course, 300.0);
    QCOMPARE(*d.satellites, 12);
    QCOMPARE(d.time, p.time);
    QVERIFY(d.valid);
    QStringList got = f.message.alarms;
    got.sort();
    alarms.sort();
    QCOMPARE(got, alarms);
    QCOMPARE(f.message.kind, alarms.isEmpty() ? MessageKind::Position : MessageKind::Alarm);
    QCOMPARE(*f.message.status->acc, true);
    QCOMPARE(*f.message.status->gsmSignal, 31);
    QCOMPARE(*f.message.status->batteryPercent, 77);
    QCOMPARE(findField(f.fields, QStringLiteral("Odometer"))->value, QStringLiteral("120.0 km"));
    QCOMPARE(f.replies.size(), 1);
    QCOMPARE(f.replies[0], j::encodeGeneralResponse(t, 0, 21, 0x0200));
    if (QTest::currentDataTag() == QLatin1String("7e in data")) {   // latitude 126 = 0x7e: escaped on the wire
        QVERIFY(!f.wire.isEmpty());
        QVERIFY(f.wire.contains(hx("7d02")));
        QCOMPARE(f.wire, wire);
    }
}

void TestJt808::textSentences() {
    const DecodedFrame f = decode("(794104004140,1,001,BASE,2,TIME)");
    QVERIFY(f.ok());
    QCOMPARE(f.message.kind, MessageKind::TimeRequest);
    QCOMPARE(f.message.deviceId, QStringLiteral("794104004140"));
    QCOMPARE(f.replies.size(), 1);
    static const QRegularExpression re(QStringLiteral("^\\(794104004140,1,001,BASE,2,(\\d{14})\\)$"));
    const auto m = re.match(QString::fromLatin1(f.replies[0]));
    QVERIFY(m.hasMatch());
    QDateTime t = QDateTime::fromString(m.captured(1), QStringLiteral("yyyyMMddHHmmss"));
    t.setTimeZone(QTimeZone::UTC);
    QVERIFY(qAbs(t.secsTo(QDateTime::currentDateTimeUtc())) <= 5);
    const DecodedFrame bad = decode("(7941");
    QVERIFY(!bad.ok());
    QVERIFY(checkFieldCoverage(bad.fields, int(bad.bytes.size())).isEmpty());
}

QTEST_GUILESS_MAIN(TestJt808)
#include "tst_jt808.moc"
