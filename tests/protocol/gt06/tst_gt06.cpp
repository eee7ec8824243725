// Tests of the GT06 family decoder (td::proto::gt06): one row per real vector of
// tests/data/gt06_vectors.tsv (expected values from its calc_*/serial/crc_ok/length_ok/
// traccar_expected columns), worked examples of the fact sheet for replies and CRCs, the
// Topin replies of the petGPS log, encoder round trips, the downlink direction, and
// broken input (truncated, lying lengths, bad CRC, garbage).
#include "gt06_vectors.h"

#include "trackerdesk/protocol/checksum.h"
#include "trackerdesk/protocol/gt06.h"
#include "trackerdesk/protocol/protocol.h"

#include <QRandomGenerator>
#include <QTest>
#include <QTimeZone>

#include <cmath>
#include <functional>

using namespace td::proto;

namespace {

const QList<Gt06Vector> &vectors() {
    static const QList<Gt06Vector> v = [] {
        QString err;
        QList<Gt06Vector> rows = loadGt06Vectors(&err);
        if (!err.isEmpty())
            qFatal("%s", qPrintable(err));
        return rows;
    }();
    return v;
}

QByteArray hex(const char *h) { return QByteArray::fromHex(QByteArray(h)); }

const Field *findField(const QList<Field> &fields, const QString &name) {
    for (const Field &f : fields) {
        if (f.name == name)
            return &f;
        if (const Field *c = findField(f.children, name))
            return c;
    }
    return nullptr;
}

bool anyWarning(const QList<Field> &fields, const QString &name) {
    for (const Field &f : fields) {
        if (f.name == name && !f.warning.isEmpty())
            return true;
        if (anyWarning(f.children, name))
            return true;
    }
    return false;
}

DecodedFrame decode(const QByteArray &b, const SessionOptions &o = {}) { return gt06Protocol().decodeFrame(b, o); }

// Bitwise CRC-16/X-25, written from the definition, to check the table-driven one.
quint16 crcBitwise(const QByteArray &b) {
    quint16 crc = 0xFFFF;
    for (char ch : b) {
        crc ^= quint8(ch);
        for (int i = 0; i < 8; ++i)
            crc = (crc & 1) ? quint16((crc >> 1) ^ 0x8408) : quint16(crc >> 1);
    }
    return quint16(~crc);
}

const Position *firstWithCoordinates(const DecodedFrame &f) {
    for (const Position &p : f.message.positions)
        if (p.hasCoordinates)
            return &p;
    return nullptr;
}

QHash<QString, QString> keyValues(const QString &s) {
    QHash<QString, QString> kv;
    for (const QString &part : s.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const int eq = part.indexOf(QLatin1Char('='));
        if (eq > 0)
            kv.insert(part.left(eq).trimmed(), part.mid(eq + 1));
    }
    return kv;
}

Position samplePosition() {
    Position p;
    p.time = QDateTime(QDate(2024, 5, 17), QTime(9, 41, 7), QTimeZone::UTC);
    p.latitude = -33.868820;
    p.longitude = 151.209296;
    p.speedKmh = 57;
    p.course = 271;
    p.satellites = 11;
    p.valid = true;
    CellTower c;
    c.mcc = 505;
    c.mnc = 1;
    c.lac = 0x1234;
    c.cellId = 0xABCDE;
    p.cells << c;
    return p;
}

} // namespace

class TstGt06 : public QObject {
    Q_OBJECT

private slots:
    void crc();
    void registry();
    void vectors_data();
    void vectors();
    void replyWorkedExamples();
    void repliesFromVectors();
    void topinReplies();
    void encodeCommands();
    void commandReplies();
    void downlink();
    void roundTripStandard();
    void roundTripTopin();
    void timeZones();
    void alarmNames();
    void unknownType();
    void brokenFrames();
    void everyPrefixOfEveryVector();
};

void TstGt06::crc() {
    QCOMPARE(gt06::crcItu("123456789", 9), quint16(0x906E));
    QCOMPARE(crc16X25("123456789", 9), quint16(0x906E));
    // Worked examples of the fact sheet (section 2).
    QCOMPARE(crc16X25(hex("05010001").constData(), 4), quint16(0xD9DC));
    QCOMPARE(crc16X25(hex("05130011").constData(), 4), quint16(0xF970));
    QCOMPARE(crc16X25(hex("0501000F").constData(), 4), quint16(0x30A2));
    // The common bug (CRC-16/CCITT-FALSE) gives CB35 for the last one; we must not.
    QVERIFY(crc16X25(hex("0501000F").constData(), 4) != 0xCB35);
    // Incremental == one shot == bitwise reference, on random data.
    auto *rng = QRandomGenerator::global();
    for (int i = 0; i < 200; ++i) {
        QByteArray b(int(rng->bounded(0, 300)), Qt::Uninitialized);
        for (char &ch : b)
            ch = char(rng->bounded(256));
        const quint16 one = crc16X25(b.constData(), b.size());
        QCOMPARE(one, crcBitwise(b));
        const int cut = b.isEmpty() ? 0 : int(rng->bounded(qsizetype(b.size())));
        quint16 st = crc16X25Update(crc16X25Init(), b.constData(), cut);
        st = crc16X25Update(st, b.constData() + cut, b.size() - cut);
        QCOMPARE(crc16X25Final(st), one);
    }
}

void TstGt06::registry() {
    QCOMPARE(protocolById(QStringLiteral("gt06")), &gt06Protocol());
    bool more = false;
    QCOMPARE(sniffProtocol(hex("7878"), &more), &gt06Protocol());
    QCOMPARE(sniffProtocol(hex("7979"), &more), &gt06Protocol());
    QCOMPARE(gt06Protocol().sniff(hex("78")), Sniff::NeedMore);
    QCOMPARE(gt06Protocol().sniff(hex("7879")), Sniff::No);
    QCOMPARE(gt06Protocol().sniff(QByteArray("GET /")), Sniff::No);
}

void TstGt06::vectors_data() {
    QTest::addColumn<int>("index");
    const QList<Gt06Vector> &all = ::vectors();
    QVERIFY(all.size() >= 200);
    for (int i = 0; i < all.size(); ++i)
        QTest::newRow(qPrintable(all[i].tag())) << i;
}

void TstGt06::vectors() {
    QFETCH(int, index);
    const Gt06Vector &v = ::vectors()[index];
    SessionOptions o;
    o.model = v["model_override"];
    const DecodedFrame f = decode(v.bytes, o);

    // Framing facts.
    const QString cov = checkFieldCoverage(f.fields, int(f.bytes.size()));
    QVERIFY2(cov.isEmpty(), qPrintable(cov));
    QVERIFY(!f.fields.isEmpty());
    QCOMPARE(f.type, v["message_type"].toInt(nullptr, 16));
    QVERIFY(!f.typeName.isEmpty());
    QVERIFY(!f.summary.isEmpty());
    const bool topin = f.protocol == QLatin1String("topin");
    QVERIFY(topin || f.protocol == QLatin1String("gt06"));
    if (!v["serial"].isEmpty() && !topin)
        QCOMPARE(f.serial, v["serial"].toInt());
    if (v["crc_ok"] == QLatin1String("true")) {
        QVERIFY2(findField(f.fields, QStringLiteral("CRC")), "no CRC field");
        QVERIFY2(!anyWarning(f.fields, QStringLiteral("CRC")), qPrintable(f.warnings.join(QLatin1Char('|'))));
    } else if (topin) {
        QVERIFY2(!findField(f.fields, QStringLiteral("CRC")), "a Topin frame has no CRC");
    } else {
        QVERIFY2(anyWarning(f.fields, QStringLiteral("CRC")), "bad CRC not flagged");
        QVERIFY(!f.ok());
    }
    if (v["length_ok"] == QLatin1String("true") && !topin)
        QVERIFY2(!anyWarning(f.fields, QStringLiteral("Length")), qPrintable(f.warnings.join(QLatin1Char('|'))));
    if (v["length_ok"] == QLatin1String("false") && !topin)
        QVERIFY2(anyWarning(f.fields, QStringLiteral("Length")) || anyWarning(f.fields, QStringLiteral("Trailing bytes"))
                     || anyWarning(f.fields, QStringLiteral("Stop")),
                 "length problem not flagged");
    if (v["notes"].contains(QLatin1String("Topin/ZX-style")))
        QCOMPARE(f.protocol, QStringLiteral("topin"));
    // Every warning on a field is also a frame warning.
    std::function<void(const QList<Field> &)> walk = [&](const QList<Field> &fs) {
        for (const Field &fl : fs) {
            if (!fl.warning.isEmpty())
                QVERIFY2(f.warnings.join(QLatin1Char('|')).contains(fl.warning), qPrintable(fl.warning));
            walk(fl.children);
        }
    };
    walk(f.fields);

    // Sane values everywhere.
    for (const Position &p : f.message.positions) {
        if (p.hasCoordinates) {
            QVERIFY(std::abs(p.latitude) <= 90.0);
            QVERIFY(std::abs(p.longitude) <= 180.0);
        } else {
            QVERIFY(p.source == PositionSource::Lbs || p.source == PositionSource::Wifi);
        }
        if (p.timeValid && p.time.isValid())
            QCOMPARE(p.time.timeSpec(), Qt::UTC);
    }

    // Expected values stated by the row.
    if (!v["calc_imei"].isEmpty())
        QCOMPARE(f.message.deviceId, v["calc_imei"]);
    const QString calcTime = v["calc_time_utc"];
    if (calcTime.startsWith(QLatin1String("invalid"))) {
        QVERIFY(f.warnings.join(QLatin1Char('|')).contains(QLatin1String("out-of-range date")));
        if (!f.message.positions.isEmpty())
            QVERIFY(!f.message.positions.first().timeValid);
    } else if (!calcTime.isEmpty()) {
        const QDateTime want = QDateTime::fromString(calcTime.left(19), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        QVERIFY(want.isValid());
        bool found = false;
        for (const Position &p : f.message.positions)
            if (p.time.isValid()) {
                QCOMPARE(p.time.toUTC().toString(Qt::ISODate), QDateTime(want.date(), want.time(), QTimeZone::UTC).toString(Qt::ISODate));
                found = true;
                break;
            }
        if (!found) {   // time-only messages: the Date/time field says it
            const Field *df = findField(f.fields, QStringLiteral("Date/time"));
            QVERIFY2(df, "no time decoded");
            QVERIFY2(df->value.startsWith(calcTime.left(19)), qPrintable(df->value));
        }
    }
    if (!v["calc_lat"].isEmpty()) {
        const Position *p = firstWithCoordinates(f);
        QVERIFY2(p, "no position with coordinates");
        QVERIFY2(std::abs(p->latitude - v["calc_lat"].toDouble()) < 1e-6, qPrintable(QString::number(p->latitude, 'f', 7)));
        QVERIFY2(std::abs(p->longitude - v["calc_lon"].toDouble()) < 1e-6, qPrintable(QString::number(p->longitude, 'f', 7)));
        if (!v["calc_speed_kmh"].isEmpty()) {
            QVERIFY(p->speedKmh.has_value());
            QVERIFY(std::abs(*p->speedKmh - v["calc_speed_kmh"].toDouble()) < 1e-6);
        }
        if (!v["calc_course"].isEmpty()) {
            QVERIFY(p->course.has_value());
            QVERIFY(std::abs(*p->course - v["calc_course"].toDouble()) < 1e-6);
        }
        if (!v["calc_valid"].isEmpty())
            QCOMPARE(p->valid, v["calc_valid"] == QLatin1String("true"));
        if (!v["calc_sats"].isEmpty()) {
            QVERIFY(p->satellites.has_value());
            QCOMPARE(*p->satellites, v["calc_sats"].toInt());
        }
    }
    const auto extra = keyValues(v["calc_extra"]);
    if (extra.contains(QStringLiteral("acc_in_flags"))) {
        const Field *cs = findField(f.fields, QStringLiteral("Course/status"));
        QVERIFY(cs);
        const Field *acc = findField(cs->children, QStringLiteral("ACC"));
        QVERIFY2(acc, "ACC bits of the course word not shown");
        QCOMPARE(acc->value.startsWith(QLatin1String("on")), extra.value(QStringLiteral("acc_in_flags")) == QLatin1String("True"));
    }
    if (extra.contains(QStringLiteral("type_id")))
        QCOMPARE(f.message.model.toLower(), extra.value(QStringLiteral("type_id")).toLower());
    if (extra.contains(QStringLiteral("tz"))) {
        const QString tz = extra.value(QStringLiteral("tz"));
        const int minutes = (tz.mid(1, 2).toInt() * 60 + tz.mid(4, 2).toInt()) * (tz.startsWith(QLatin1Char('-')) ? -1 : 1);
        QCOMPARE(f.message.timeZoneMinutes, std::optional<int>(minutes));
    }
    if (extra.contains(QStringLiteral("sw_version"))) {
        const Field *sw = findField(f.fields, QStringLiteral("Software version"));
        QVERIFY(sw);
        QVERIFY(sw->value.startsWith(extra.value(QStringLiteral("sw_version")) + QLatin1Char(' ')));
    }
    if (extra.contains(QStringLiteral("wifi_count"))) {
        QCOMPARE(f.message.positions.size(), 1);
        QCOMPARE(f.message.positions.first().wifi.size(), extra.value(QStringLiteral("wifi_count")).toInt());
        QVERIFY(!f.message.positions.first().hasCoordinates);
        QVERIFY(!f.message.positions.first().cells.isEmpty());
    }
    if (extra.contains(QStringLiteral("text"))) {
        // The column holds "text=..." to its end, with ';' written as ','.
        const QString col = v["calc_extra"];
        const QString want = col.mid(col.indexOf(QLatin1String("text=")) + 5).trimmed();
        QString got = f.message.text;
        got.replace(QLatin1Char(';'), QLatin1Char(','));
        QVERIFY2(got.startsWith(want), qPrintable(f.message.text));
    }
    if (extra.contains(QStringLiteral("altitude"))) {
        QVERIFY(!f.message.positions.isEmpty() && f.message.positions.first().altitude);
        QCOMPARE(*f.message.positions.first().altitude, extra.value(QStringLiteral("altitude")).toDouble());
    }
    // Traccar's expectations that this decoder models.
    const auto tr = keyValues(v["traccar_expected"]);
    // Not modelled: the 0x70 module that carries Traccar's "removing" (layout undocumented).
    if (tr.contains(QStringLiteral("alarm")) && f.type != 0x70)
        QVERIFY2(f.message.alarms.contains(tr.value(QStringLiteral("alarm"))), qPrintable(f.message.alarms.join(QLatin1Char(','))));
    if (tr.contains(QStringLiteral("iccid")))
        QVERIFY(f.message.text.contains(tr.value(QStringLiteral("iccid"))));
    if (tr.contains(QStringLiteral("ignition"))) {
        QVERIFY(f.message.status && f.message.status->acc);
        QCOMPARE(*f.message.status->acc, tr.value(QStringLiteral("ignition")) == QLatin1String("true"));
    }
    // Battery level where the status block layout is documented (alarm frames).
    if (tr.contains(QStringLiteral("batteryLevel")) && f.type == 0x16) {
        QVERIFY(f.message.status && f.message.status->batteryPercent);
        QCOMPARE(*f.message.status->batteryPercent, tr.value(QStringLiteral("batteryLevel")).toInt());
    }
    if (tr.contains(QStringLiteral("lat"))) {
        const Position *p = firstWithCoordinates(f);
        QVERIFY(p);
        QVERIFY(std::abs(p->latitude - tr.value(QStringLiteral("lat")).toDouble()) < 1e-5);
        QVERIFY(std::abs(p->longitude - tr.value(QStringLiteral("lon")).toDouble()) < 1e-5);
    }
    if (tr.contains(QStringLiteral("result")))   // 0x9B pass-through payload
        QCOMPARE(f.message.text.toUpper(), tr.value(QStringLiteral("result")).toUpper());
    // Logins and heartbeats always get their ack, with the serial echoed.
    if (!topin && f.ok() && (f.type == 0x01 || f.type == 0x13 || f.type == 0x23)) {
        QCOMPARE(f.replies.size(), 1);
        QCOMPARE(f.replies.first(), gt06::encodeAck(quint8(f.type), quint16(f.serial)));
    }
}

void TstGt06::replyWorkedExamples() {
    QCOMPARE(gt06::encodeAck(0x01, 0x0001), hex("78780501 0001D9DC0D0A"));
    QCOMPARE(gt06::encodeAck(0x13, 0x0011), hex("78780513 0011F9700D0A"));
    QCOMPARE(gt06::encodeAck(0x01, 0x000F), hex("78780501000F30A20D0A"));
    QCOMPARE(gt06::encodeAck(0x26, 0x001C), hex("78780526001C9D860D0A"));   // VL03 document
    QCOMPARE(gt06::encodeLongAck(0x70, 0x0005), [] {
        QByteArray b = hex("7979000570 0005");
        const quint16 c = crc16X25(b.constData() + 2, b.size() - 2);
        b.append(char(c >> 8)).append(char(c & 0xFF)).append("\r\n");
        return b;
    }());
    const QDateTime t(QDate(2016, 4, 13), QTime(3, 18, 49), QTimeZone::UTC);
    const QByteArray tr = gt06::encodeTimeReply(6, t);
    QCOMPARE(tr.left(4), hex("78780B8A"));
    QCOMPARE(tr.mid(4, 6), hex("10040D031231"));
    QCOMPARE(tr.mid(10, 2), hex("0006"));
    QCOMPARE(crc16X25(tr.constData() + 2, 10), quint16((uchar(tr[12]) << 8) | uchar(tr[13])));
    QCOMPARE(tr.right(2), QByteArray("\r\n"));
}

void TstGt06::repliesFromVectors() {
    // Login (0x01), heartbeat (0x13 / 0x23), alarms (0x16 / 0x26), 0x12, 0xA0 and 0x19: ack with serial.
    const struct { const char *frame; const char *ack; } acks[] = {
        {"78780d01012345678901234500018cdd0d0a", "78780501 0001D9DC0D0A"},
        {"78780a13c40604000201298f5b0d0a", nullptr},
        {"78780b23c00122040001000818720d0a", nullptr},
        {"78782526160913063918c002780fab0c44750f00040008027f14084c0038420600030c020007398e0d0a", nullptr},
        {"787825160b051b093523cf027ac8360c4657b30014000901cc00266a001e1740050400020008d7b10d0a", nullptr},
        {"787821120c010c0f151fcf027ac8840c4657ec00140001cc00287d001f720001000f53a00d0a", nullptr},
    };
    for (const auto &a : acks) {
        const DecodedFrame f = decode(hex(a.frame));
        QVERIFY2(f.ok(), qPrintable(f.warnings.join(QLatin1Char('|'))));
        QCOMPARE(f.replies.size(), 1);
        QCOMPARE(f.replies.first(), gt06::encodeAck(quint8(f.type), quint16(f.serial)));
        if (a.ack)
            QCOMPARE(f.replies.first(), hex(a.ack));
        // The ack decodes back as a downlink acknowledgement of the same type and serial.
        SessionOptions down;
        down.direction = Direction::ToDevice;
        const DecodedFrame back = decode(f.replies.first(), down);
        QVERIFY(back.ok());
        QCOMPARE(back.message.kind, MessageKind::Downlink);
        QCOMPARE(back.type, f.type);
        QCOMPARE(back.serial, f.serial);
        QVERIFY(back.replies.isEmpty());
        QVERIFY(back.typeName.startsWith(QLatin1String("Acknowledgement")));
    }
    // 0x8A time request: reply in UTC, serial echoed.
    {
        const QDateTime before = QDateTime::currentDateTimeUtc();
        const DecodedFrame f = decode(hex("7878058a000688290d0a"));
        QCOMPARE(f.message.kind, MessageKind::TimeRequest);
        QCOMPARE(f.replies.size(), 1);
        const QByteArray r = f.replies.first();
        QCOMPARE(r.size(), 16);
        QCOMPARE(r.left(4), hex("78780B8A"));
        QCOMPARE(r.mid(10, 2), hex("0006"));
        const QDateTime sent(QDate(2000 + uchar(r[4]), uchar(r[5]), uchar(r[6])), QTime(uchar(r[7]), uchar(r[8]), uchar(r[9])), QTimeZone::UTC);
        QVERIFY(sent.isValid());
        QVERIFY(std::abs(sent.secsTo(before)) <= 5);
        QCOMPARE(crc16X25(r.constData() + 2, 10), quint16((uchar(r[12]) << 8) | uchar(r[13])));
    }
    // 0x2A address request (language 01 = Chinese): 0x17 reply (78 78), serial and phone echoed.
    {
        const QByteArray req = hex("78782e2a0f0c1d071139ca027ac8000c4658000014d83132353230313335333231373730373900000000000001002a6ece0d0a");
        const DecodedFrame f = decode(req);
        QVERIFY(f.ok());
        QCOMPARE(f.replies.size(), 1);
        const QByteArray r = f.replies.first();
        QCOMPARE(r.left(2), hex("7878"));
        QCOMPARE(uchar(r[3]), uchar(0x17));
        QCOMPARE(int(uchar(r[2])), int(r.size()) - 5);
        QVERIFY(r.contains("ADDRESS&&"));
        QVERIFY(r.contains(req.mid(4 + 18, 21)));
        QCOMPARE(r.mid(r.size() - 6, 2), hex("002a"));
        QCOMPARE(crc16X25(r.constData() + 2, r.size() - 6), quint16((uchar(r[r.size() - 4]) << 8) | uchar(r[r.size() - 3])));
        // The same request in English (language 02): 0x97 in a 79 79 frame.
        QByteArray en = req.left(req.size() - 6);
        en[en.size() - 1] = char(0x02);
        en += hex("002a");
        const quint16 c = crc16X25(en.constData() + 2, en.size() - 2);
        en.append(char(c >> 8)).append(char(c & 0xFF)).append("\r\n");
        const DecodedFrame fe = decode(en);
        QVERIFY(fe.ok());
        const QByteArray re = fe.replies.value(0);
        QCOMPARE(re.left(2), hex("7979"));
        QCOMPARE(uchar(re[4]), uchar(0x97));
        QCOMPARE(int((uchar(re[2]) << 8) | uchar(re[3])), int(re.size()) - 6);
        QCOMPARE(re.mid(re.size() - 6, 2), hex("002a"));
        SessionOptions down;
        down.direction = Direction::ToDevice;
        QVERIFY(decode(re, down).ok());
    }
    // No reply: command reply 0x15, information 0x94, firmware 0xFD.
    for (const char *h : {"787829152100000000526573746f7265206675656c20737570706c793a2053756363657373210002014077ce0d0a",
                          "7979000e941e000000d5000002ee00f59b850d0a"})
        QVERIFY(decode(hex(h)).replies.isEmpty());
}

void TstGt06::topinReplies() {
    // Login: 78 78 01 01 0D 0A (petGPS / Topin document).
    DecodedFrame f = decode(hex("78780d010359339075005244340d0a"));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.message.kind, MessageKind::Login);
    QCOMPARE(f.message.deviceId, QStringLiteral("359339075005244"));
    QCOMPARE(f.replies.toList(), QList<QByteArray>{hex("787801010d0a")});
    QVERIFY(f.ok());
    // Wi-Fi 0x69: the BCD time echoed, 78 78 00 69 <time> 0D 0A.
    f = decode(hex("787803691604130318491475905bd30e25001e10bbf7635d14759006e626560501cc0028660f213228660f1f2828660ea81e286610731428660f20140d0a"));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.replies.toList(), QList<QByteArray>{hex("787800691604130318490d0a")});
    QCOMPARE(f.message.kind, MessageKind::Lbs);
    QCOMPARE(f.message.positions.first().wifi.size(), 3);
    QCOMPARE(f.message.positions.first().wifi.first().bssid, QStringLiteral("14:75:90:5b:d3:0e"));
    QCOMPARE(f.message.positions.first().wifi.first().rssi, -0x25);
    QCOMPARE(f.message.positions.first().cells.size(), 5);
    QCOMPARE(f.message.positions.first().cells.first().mcc, 460);
    QCOMPARE(f.message.positions.first().source, PositionSource::Wifi);
    // Offline Wi-Fi 0x17 with no APs.
    f = decode(hex("787800171710231108290200cc080c4e2fa5640c4e2fa5640d0a"));
    QCOMPARE(f.replies.toList(), QList<QByteArray>{hex("787800171710231108290d0a")});
    QCOMPARE(f.message.positions.first().source, PositionSource::Lbs);
    // GPS 0x10: the 6-byte time echoed.
    f = decode(hex("7878121011091c0b1b2999058508040097a89e0034520d0a"));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.replies.toList(), QList<QByteArray>{hex("7878001011091c0b1b290d0a")});
    // Status 0x13 (constructed to the document's layout): 78 78 01 13 0D 0A.
    f = decode(gt06::encodeTopinHeartbeat(87));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.replies.toList(), QList<QByteArray>{hex("787801130d0a")});
    // Heartbeat 0x08: no reply documented.
    f = decode(hex("787801080d0a"));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.message.kind, MessageKind::Heartbeat);
    QVERIFY(f.replies.isEmpty());
    // Time request 0x30: 78 78 07 30 YYYY MM DD hh mm ss 0D 0A in UTC.
    const QDateTime before = QDateTime::currentDateTimeUtc();
    f = decode(hex("787801300d0a"));
    QCOMPARE(f.message.kind, MessageKind::TimeRequest);
    QCOMPARE(f.replies.size(), 1);
    const QByteArray r = f.replies.first();
    QCOMPARE(r.size(), 13);
    QCOMPARE(r.left(4), hex("78780730"));
    const QDateTime sent(QDate((uchar(r[4]) << 8) | uchar(r[5]), uchar(r[6]), uchar(r[7])), QTime(uchar(r[8]), uchar(r[9]), uchar(r[10])), QTimeZone::UTC);
    QVERIFY(std::abs(sent.secsTo(before)) <= 5);
    QCOMPARE(gt06::encodeTopinTimeReply(QDateTime(QDate(2016, 4, 13), QTime(3, 18, 49), QTimeZone::UTC)), hex("7878073007E0040D0312310d0a"));
    // SOS 0x99 and the model override.
    SessionOptions topin;
    topin.model = QStringLiteral("topin");
    f = decode(hex("787801990d0a"), topin);
    QCOMPARE(f.message.kind, MessageKind::Alarm);
    QCOMPARE(f.message.alarms, QStringList{QStringLiteral("sos")});
    // Position text reply decodes as a Topin downlink.
    SessionOptions down;
    down.direction = Direction::ToDevice;
    const QByteArray text = gt06::encodeTopinPositionText(22.676746, 113.94094);
    QCOMPARE(text, QByteArray("\x78\x78\x17\x69+22.676746,+113.940940\r\n"));
    f = decode(text, down);
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.message.kind, MessageKind::Downlink);
    QCOMPARE(f.message.text, QStringLiteral("+22.676746,+113.940940"));
}

void TstGt06::encodeCommands() {
    // Traccar's encoder test vector: engine stop "Relay,1#", serial 0, flag 0.
    QCOMPARE(gt06::encodeCommand(0, 0, QStringLiteral("Relay,1#")), hex("787812800c0000000052656c61792c312300009dee0d0a"));
    SessionOptions down;
    down.direction = Direction::ToDevice;
    for (const QString &cmd : {QStringLiteral("WHERE#"), QStringLiteral("RESET#"), QStringLiteral("TIMER,30#"), QStringLiteral("DYD,000000#")}) {
        const QByteArray b = gt06::encodeCommand(7, 0x0001A958, cmd);
        const DecodedFrame f = decode(b, down);
        QVERIFY2(f.ok(), qPrintable(f.warnings.join(QLatin1Char('|'))));
        QCOMPARE(f.message.kind, MessageKind::Downlink);
        QCOMPARE(f.type, 0x80);
        QCOMPARE(f.serial, 7);
        QCOMPARE(f.message.text, cmd);
        QVERIFY(f.replies.isEmpty());
        QVERIFY(checkFieldCoverage(f.fields, int(b.size())).isEmpty());
        QCOMPARE(findField(f.fields, QStringLiteral("Server flag"))->value, QStringLiteral("0x0001A958"));
    }
    // The official example form: length 0x0F + flag 0001A958 + "DYD,000000#".
    const QByteArray dyd = gt06::encodeCommand(0xA0, 0x0001A958, QStringLiteral("DYD,000000#"));
    QCOMPARE(dyd.mid(2, 8), hex("15800f0001a958") + QByteArray("D"));
    // A long command goes into a 79 79 frame.
    const QString longText = QString(300, QLatin1Char('A')) + QLatin1Char('#');
    const QByteArray lb = gt06::encodeCommand(1, 2, longText);
    QCOMPARE(lb.left(2), hex("7979"));
    const DecodedFrame lf = decode(lb, down);
    QVERIFY(lf.ok());
    QCOMPARE(lf.message.text, longText);
    QVERIFY(gt06::encodeCommand(1, 2, QString()).isEmpty());
}

void TstGt06::commandReplies() {
    // 0x15 ASCII with the ICCID (Traccar vector).
    DecodedFrame f = decode(hex("7878281520000000003c49434349443a38393838323339303030303039373330323635303e00020d446f260d0a"));
    QCOMPARE(f.message.kind, MessageKind::CommandReply);
    QCOMPARE(f.message.text, QStringLiteral("<ICCID:89882390000097302650>"));
    // 0x21 UTF-16BE.
    f = decode(hex("797900262100000000020043006f006d006d0061006e00640020006500720072006f0072002100236e850d0a"));
    QCOMPARE(f.message.kind, MessageKind::CommandReply);
    QCOMPARE(f.message.text, QStringLiteral("Command error!"));
    QCOMPARE(findField(f.fields, QStringLiteral("Encoding"))->value, QStringLiteral("2 = UTF-16BE"));
    // 0x21 ASCII "Current position!" gives a position too.
    f = decode(hex("7979007121000000000143757272656e7420706f736974696f6e214c61743a4e35342e3733393333322c4c6f6e3a4532352e3237333237302c436f757273653a3132362e35332c53706565643a302e303030302c4461746554696d653a323031372d30352d3236202031303a32373a3437000bbee30d0a"));
    QCOMPARE(f.message.kind, MessageKind::CommandReply);
    QCOMPARE(f.message.positions.size(), 1);
    QCOMPARE(f.message.positions.first().time, QDateTime(QDate(2017, 5, 26), QTime(10, 27, 47), QTimeZone::UTC));
    // Round trip of the 0x15 encoder.
    const QByteArray r = gt06::encodeCommandReply(9, 0x0001A958, QStringLiteral("DYD=Success!"));
    f = decode(r);
    QVERIFY(f.ok());
    QCOMPARE(f.message.text, QStringLiteral("DYD=Success!"));
    QCOMPARE(f.serial, 9);
}

void TstGt06::downlink() {
    SessionOptions down;
    down.direction = Direction::ToDevice;
    // Time reply.
    DecodedFrame f = decode(gt06::encodeTimeReply(6, QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5), QTimeZone::UTC)), down);
    QVERIFY(f.ok());
    QCOMPARE(f.message.kind, MessageKind::Downlink);
    QVERIFY(findField(f.fields, QStringLiteral("UTC time"))->value.startsWith(QLatin1String("2024-01-02 03:04:05")));
    // Address reply.
    f = decode(gt06::encodeAddressReply(3, QStringLiteral("NA"), QByteArray(21, '0')), down);
    QVERIFY(f.ok());
    QCOMPARE(f.type, 0x97);
    QVERIFY(f.message.text.contains(QLatin1String("ADDRESS&&")));
    // Topin replies.
    f = decode(hex("787801010d0a"), down);
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.message.kind, MessageKind::Downlink);
    f = decode(hex("787800691604130318490d0a"), down);
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QVERIFY(findField(f.fields, QStringLiteral("Time (echoed)"))->value.startsWith(QLatin1String("2016-04-13 03:18:49")));
    f = decode(hex("7878073007E0040D0312310d0a"), down);
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(findField(f.fields, QStringLiteral("Year"))->value, QStringLiteral("2016"));
    QVERIFY(f.replies.isEmpty());
}

void TstGt06::roundTripStandard() {
    // Login without and with a time zone.
    DecodedFrame f = decode(gt06::encodeLogin(QStringLiteral("864717003283581"), 9));
    QCOMPARE(f.bytes, hex("78780d01086471700328358100093f040d0a"));   // the Traccar vector
    for (int tz : {0, 480, -240, 330, -570, 765}) {
        const QByteArray b = gt06::encodeLogin(QStringLiteral("353419036066061"), 42, tz, 0x2014);
        f = decode(b);
        QVERIFY2(f.ok(), qPrintable(f.warnings.join(QLatin1Char('|'))));
        QCOMPARE(f.message.kind, MessageKind::Login);
        QCOMPARE(f.message.deviceId, QStringLiteral("353419036066061"));
        QCOMPARE(f.message.timeZoneMinutes, std::optional<int>(tz));
        QCOMPARE(f.message.model, QStringLiteral("0x2014"));
        QCOMPARE(f.serial, 42);
        QCOMPARE(b[2], char(0x11));
    }
    QCOMPARE(gt06::timeZoneWord(480), quint16(0x3202));
    QCOMPARE(gt06::timeZoneMinutes(0x190A), -240);
    QVERIFY(gt06::encodeLogin(QStringLiteral("12ab"), 1).isEmpty());
    // Heartbeat.
    f = decode(gt06::encodeHeartbeat(0x11, 6, 4, true));
    QVERIFY(f.ok());
    QCOMPARE(f.message.kind, MessageKind::Heartbeat);
    QCOMPARE(f.message.status->batteryPercent, std::optional<int>(100));
    QCOMPARE(f.message.status->gsmSignal, std::optional<int>(4));
    QCOMPARE(f.message.status->charging, std::optional<bool>(true));
    QCOMPARE(f.replies.first(), gt06::encodeAck(0x13, 0x11));
    f = decode(gt06::encodeHeartbeat(1, 3, 2, false));
    QCOMPARE(f.message.status->batteryPercent, std::optional<int>(50));
    QCOMPARE(f.message.status->charging, std::optional<bool>(false));
    // GPS+LBS 0x22.
    const Position p = samplePosition();
    f = decode(gt06::encodeGpsLbs(300, p));
    QVERIFY2(f.ok(), qPrintable(f.warnings.join(QLatin1Char('|'))));
    QCOMPARE(f.type, 0x22);
    QCOMPARE(f.message.kind, MessageKind::Position);
    QCOMPARE(f.message.positions.size(), 1);
    const Position &q = f.message.positions.first();
    QCOMPARE(q.time, p.time);
    QVERIFY(std::abs(q.latitude - p.latitude) < 1e-6);
    QVERIFY(std::abs(q.longitude - p.longitude) < 1e-6);
    QCOMPARE(*q.speedKmh, 57.0);
    QCOMPARE(*q.course, 271.0);
    QCOMPARE(*q.satellites, 11);
    QVERIFY(q.valid);
    QCOMPARE(q.cells.size(), 1);
    QCOMPARE(q.cells.first().mcc, 505);
    QCOMPARE(q.cells.first().lac, qint64(0x1234));
    QCOMPARE(q.cells.first().cellId, qint64(0xABCDE));
    QCOMPARE(f.summary, QStringLiteral("33.8688°S 151.2093°E 57 km/h valid 11 sats"));
    // Western/northern hemisphere, invalid fix.
    Position w = p;
    w.latitude = 40.712776;
    w.longitude = -74.005974;
    w.valid = false;
    f = decode(gt06::encodeGpsLbs(1, w));
    QVERIFY(std::abs(f.message.positions.first().latitude - w.latitude) < 1e-6);
    QVERIFY(std::abs(f.message.positions.first().longitude - w.longitude) < 1e-6);
    QVERIFY(!f.message.positions.first().valid);
    // Alarm 0x26 for each mapped code.
    const struct { int code; const char *name; } alarms[] = {{0x01, "sos"}, {0x02, "powerCut"}, {0x03, "vibration"},
                                                             {0x04, "geofenceEnter"}, {0x05, "geofenceExit"}, {0x06, "overspeed"},
                                                             {0x19, "lowBattery"}};
    for (const auto &a : alarms) {
        const QByteArray b = gt06::encodeAlarm(5, p, a.code);
        f = decode(b);
        QVERIFY(f.ok());
        QCOMPARE(b[2], char(0x25));
        QCOMPARE(f.message.kind, MessageKind::Alarm);
        QVERIFY2(f.message.alarms.contains(QLatin1String(a.name)), qPrintable(f.message.alarms.join(QLatin1Char(','))));
        QCOMPARE(f.replies.first(), gt06::encodeAck(0x26, 5));
        QCOMPARE(f.message.positions.first().cells.first().cellId, qint64(0xABCDE));
    }
    QCOMPARE(decode(gt06::encodeAlarm(5, p, 0x01)).summary.left(9), QStringLiteral("SOS alarm"));
    // Time request.
    f = decode(gt06::encodeTimeRequest(77));
    QCOMPARE(f.message.kind, MessageKind::TimeRequest);
    QCOMPARE(f.replies.size(), 1);
    QCOMPARE(f.replies.first().mid(10, 2), hex("004d"));
}

void TstGt06::roundTripTopin() {
    DecodedFrame f = decode(gt06::encodeTopinLogin(QStringLiteral("356314041419858"), 60));
    QCOMPARE(f.bytes, hex("78780d0103563140414198583c0d0a"));   // the real unit's frame
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.message.deviceId, QStringLiteral("356314041419858"));
    const Position p = samplePosition();
    f = decode(gt06::encodeTopinGps(p));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.bytes.size(), 24);
    QCOMPARE(f.message.positions.first().time, p.time);
    QVERIFY(std::abs(f.message.positions.first().latitude - p.latitude) < 1e-6);
    QVERIFY(f.ok());
    f = decode(gt06::encodeTopinHeartbeat(64, 3));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    QCOMPARE(f.message.status->batteryPercent, std::optional<int>(64));
    QCOMPARE(f.message.status->gsmSignal, std::optional<int>(3));
    QVERIFY(f.ok());
    Position wifi;
    wifi.time = QDateTime(QDate(2019, 1, 21), QTime(5, 9, 3), QTimeZone::UTC);
    wifi.wifi << WifiAccessPoint{QStringLiteral("14:75:90:5b:d3:0e"), -37} << WifiAccessPoint{QStringLiteral("00:1e:10:bb:f7:63"), -93};
    CellTower c1{460, 0, 0x2866, 0x0F21, 50};
    CellTower c2{460, 0, 0x2866, 0x0F1F, 40};
    wifi.cells << c1 << c2;
    const QByteArray wb = gt06::encodeTopinWifi(wifi);
    QCOMPARE(wb[2], char(2));
    f = decode(wb);
    QVERIFY2(f.ok(), qPrintable(f.warnings.join(QLatin1Char('|'))));
    QCOMPARE(f.protocol, QStringLiteral("topin"));
    const Position &q = f.message.positions.first();
    QCOMPARE(q.time, wifi.time);
    QCOMPARE(q.wifi.size(), 2);
    QCOMPARE(q.wifi[1].bssid, QStringLiteral("00:1e:10:bb:f7:63"));
    QCOMPARE(q.wifi[1].rssi, -93);
    QCOMPARE(q.cells.size(), 2);
    QCOMPARE(q.cells[1].cellId, qint64(0x0F1F));
    QCOMPARE(q.cells[1].signal, 40);
    QCOMPARE(f.replies.toList(), QList<QByteArray>{hex("78780069190121050903") + "\r\n"});
}

void TstGt06::timeZones() {
    // A classic 0x12 (device-local time) and a 0x22 (UTC by the document).
    const QByteArray local = hex("787821120c010c0f151fcf027ac8840c4657ec00140001cc00287d001f720001000f53a00d0a");
    const QByteArray utc = hex("787822220f0c1d023305c9027ac8180c46586000140001cc00287d001f71000001000820860d0a");
    const QDateTime t12(QDate(2012, 1, 12), QTime(15, 21, 31), QTimeZone::UTC);
    QCOMPARE(decode(local).message.positions.first().time, t12);
    SessionOptions tz;
    tz.timeZoneMinutes = 480;
    // The explicit per-device offset applies to every device timestamp.
    QCOMPARE(decode(local, tz).message.positions.first().time, t12.addSecs(-8 * 3600));
    QVERIFY(findField(decode(local, tz).fields, QStringLiteral("Date/time"))->value.contains(QLatin1String("UTC+08:00")));
    // The login's time zone applies to later device-local frames of the session, not to UTC types.
    auto session = gt06Protocol().createSession();
    QByteArray stream = gt06::encodeLogin(QStringLiteral("123456789012345"), 1, -240) + local + utc;
    const QList<StreamEvent> ev = session->feed(stream);
    QCOMPARE(ev.size(), 3);
    QCOMPARE(ev[0].frame.message.timeZoneMinutes, std::optional<int>(-240));
    QCOMPARE(ev[1].frame.message.positions.first().time, t12.addSecs(4 * 3600));
    QCOMPARE(ev[2].frame.message.positions.first().time, QDateTime(QDate(2015, 12, 29), QTime(2, 51, 5), QTimeZone::UTC));
}

void TstGt06::alarmNames() {
    QCOMPARE(gt06::alarmName(0x01), QStringLiteral("sos"));
    QCOMPARE(gt06::alarmName(0x02), QStringLiteral("powerCut"));
    QCOMPARE(gt06::alarmName(0x00), QString());
    QCOMPARE(gt06::alarmName(0xFE), QString());
    QCOMPARE(gt06::alarmName(0x09), QStringLiteral("vibration"));
    QCOMPARE(gt06::alarmName(0x09, QStringLiteral("VL103")), QStringLiteral("tow"));
    QCOMPARE(gt06::alarmName(0x30), QStringLiteral("jamming"));
    QCOMPARE(gt06::alarmName(0x30, QStringLiteral("G18")), QStringLiteral("hardBraking"));
    QCOMPARE(gt06::alarmName(0x19, QStringLiteral("LW4G-4B")), QStringLiteral("hardAcceleration"));
    QCOMPARE(gt06::alarmName(0x107), QStringLiteral("jamming"));
}

void TstGt06::unknownType() {
    // An unknown 78 78 type: raw content field, kind Unknown, acked (Traccar's default).
    QByteArray b = hex("78780a5e0102030405");
    b.append(char(0)).append(char(3));
    const quint16 crc = crc16X25(b.constData() + 2, b.size() - 2);
    b.append(char(crc >> 8)).append(char(crc & 0xFF)).append("\r\n");
    DecodedFrame f = decode(b);
    QVERIFY(f.ok());
    QCOMPARE(f.message.kind, MessageKind::Unknown);
    QCOMPARE(findField(f.fields, QStringLiteral("Content (unknown type)"))->value, QStringLiteral("01 02 03 04 05"));
    QCOMPARE(f.replies.toList(), QList<QByteArray>{gt06::encodeAck(0x5E, 3)});
    // Unknown 79 79 type: no ack.
    f = decode(hex("79790005840016bb1a0d0a"));
    QVERIFY(f.ok());
    QVERIFY(f.replies.isEmpty());
}

void TstGt06::brokenFrames() {
    // Not GT06 at all.
    DecodedFrame f = decode(QByteArray("GET / HTTP/1.1\r\n\r\n"));
    QVERIFY(!f.ok());
    QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
    QVERIFY(f.replies.isEmpty());
    f = decode(QByteArray());
    QVERIFY(!f.ok());
    // Bad CRC: warning, frame kept, fields intact.
    QByteArray login = gt06::encodeLogin(QStringLiteral("123456789012345"), 1);
    login[login.size() - 3] = char(login[login.size() - 3] ^ 0x55);
    f = decode(login);
    QVERIFY(!f.ok());
    QVERIFY(anyWarning(f.fields, QStringLiteral("CRC")));
    QCOMPARE(f.message.deviceId, QStringLiteral("123456789012345"));
    // Lying length, CRC over the actual bytes (Traccar frame test): kept with a warning.
    f = decode(hex("787808134606020002044dc5050d0a"));
    QVERIFY(anyWarning(f.fields, QStringLiteral("Length")));
    QVERIFY(!anyWarning(f.fields, QStringLiteral("CRC")));
    QCOMPARE(f.serial, 1101);
    QCOMPARE(f.message.kind, MessageKind::Heartbeat);
    // Truncated: the X1 vector ends inside the stop bytes.
    f = decode(hex("78783c3400000000130a1906011105029b4d450b1828d5001c00000000009e7d014e140fc000004e990000000004c301a442210000020101c001c0000591aa0d"));
    QVERIFY(anyWarning(f.fields, QStringLiteral("Stop")));
    QVERIFY(f.replies.isEmpty());
    QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
    // Content too short for the type: warning, no crash, no position.
    QByteArray shortGps = hex("78780a22010203040500");   // 4 content bytes + serial
    shortGps.append(char(1));
    const quint16 c2 = crc16X25(shortGps.constData() + 2, shortGps.size() - 2);
    shortGps.append(char(c2 >> 8)).append(char(c2 & 0xFF)).append("\r\n");
    f = decode(shortGps);
    QVERIFY(!f.ok());
    QVERIFY(f.message.positions.isEmpty());
    QVERIFY(checkFieldCoverage(f.fields, int(f.bytes.size())).isEmpty());
    // Out-of-range date.
    Position p = samplePosition();
    QByteArray bad = gt06::encodeGpsLbs(1, p);
    bad[5] = char(13);   // month 13
    const quint16 c3 = crc16X25(bad.constData() + 2, bad.size() - 6);
    bad[bad.size() - 4] = char(c3 >> 8);
    bad[bad.size() - 3] = char(c3 & 0xFF);
    f = decode(bad);
    QVERIFY(anyWarning(f.fields, QStringLiteral("Date/time")));
    QVERIFY(f.warnings.join(QLatin1Char('|')).contains(QLatin1String("out-of-range date")));
    QVERIFY(!f.message.positions.first().timeValid);
    // Three 0xFD frames in one buffer: the first decoded, the rest flagged as trailing.
    f = decode(QByteArray::fromHex(::vectors()[151].bytes.toHex()));
    QCOMPARE(f.type, 0xFD);
    QVERIFY(anyWarning(f.fields, QStringLiteral("Trailing bytes")));
    QCOMPARE(f.message.deviceId, QStringLiteral("358899050927725"));
    QVERIFY(f.message.text.contains(QLatin1String("[VERSION]GT06D")));
}

void TstGt06::everyPrefixOfEveryVector() {
    // Any prefix of a real frame, in both directions and with the Topin override: no crash,
    // the coverage invariant holds.
    SessionOptions opts[3];
    opts[1].direction = Direction::ToDevice;
    opts[2].model = QStringLiteral("topin");
    int checked = 0;
    for (const Gt06Vector &v : ::vectors())
        for (int n = 0; n <= v.bytes.size(); ++n)
            for (const SessionOptions &o : opts) {
                const DecodedFrame f = decode(v.bytes.left(n), o);
                const QString cov = checkFieldCoverage(f.fields, n);
                if (!cov.isEmpty())
                    QFAIL(qPrintable(QStringLiteral("%1 prefix %2: %3").arg(v.tag()).arg(n).arg(cov)));
                ++checked;
            }
    QVERIFY(checked > 10000);
}

QTEST_GUILESS_MAIN(TstGt06)
#include "tst_gt06.moc"
