// JT/T 808 location data: the 0x0200 basic block and its additional-information items,
// 0x0201, the 0x0704 batch, the vendor 0x0210 batch and the vendor 0x5501/0x5502 reports.
#include "jt808_p.h"
#include "textline_p.h"

#include <QTimeZone>

#include <cmath>
#include <iterator>

namespace td::proto::jt808 {
namespace detail {

namespace {

// ---- alarm word (JT/T 808-2013 table 24) ----
struct AlarmBitSpec {
    int bit;
    const char *name;
    const char *machine;   // Message::alarms
};
constexpr AlarmBitSpec kAlarmBits[] = {
    {0, "SOS / emergency", "sos"},
    {1, "Overspeed", "overspeed"},
    {2, "Fatigue driving", "fatigueDriving"},
    {3, "Danger warning", "dangerWarning"},
    {4, "GNSS module fault", "gnssFault"},
    {5, "GNSS antenna cut", "gnssAntennaCut"},
    {6, "GNSS antenna short circuit", "gnssAntennaShort"},
    {7, "Main power under-voltage", "lowBattery"},
    {8, "Main power off", "powerCut"},
    {9, "LCD fault", "lcdFault"},
    {10, "TTS fault", "ttsFault"},
    {11, "Camera fault", "cameraFault"},
    {12, "IC-card module fault", "icCardFault"},
    {13, "Overspeed pre-warning", "overspeedWarning"},
    {14, "Fatigue pre-warning", "fatigueWarning"},
    {15, "Vibration (reserved bit, vendor use)", "vibration"},
    {16, "Tampering (reserved bit, vendor use)", "tampering"},
    {17, "Tampering (reserved bit, vendor use)", "tampering"},
    {18, "Daily driving time exceeded", "drivingTimeExceeded"},
    {19, "Overtime parking", "overtimeParking"},
    {20, "Geofence in/out", "geofence"},
    {21, "Route in/out", "route"},
    {22, "Route segment driving time too short/long", "routeTime"},
    {23, "Route deviation", "routeDeviation"},
    {24, "VSS fault", "vssFault"},
    {25, "Fuel abnormal", "fuelAbnormal"},
    {26, "Vehicle stolen", "stolen"},
    {27, "Illegal ignition", "illegalIgnition"},
    {28, "Illegal movement", "illegalMovement"},
    {29, "Collision warning", "accident"},
    {30, "Rollover warning", "rollover"},
    {31, "Illegal door open", "illegalDoorOpen"},
};

// ---- status word (table 25): bit, name, value when set, value when clear ----
struct StatusBitSpec {
    int bit;
    const char *name;
    const char *set;
    const char *clear;
};
constexpr StatusBitSpec kStatusBits[] = {
    {0, "ACC", "on", "off"},
    {1, "Positioning", "fixed", "not fixed"},
    {2, "Latitude hemisphere", "south", "north"},
    {3, "Longitude hemisphere", "west", "east"},
    {4, "Operation", "out of service", "in service"},
    {5, "Coordinates encrypted by plug-in", "yes", "no"},
    {8, "Load", nullptr, nullptr},   // bits 8-9
    {10, "Fuel circuit", "cut", "normal"},
    {11, "Electric circuit", "cut", "normal"},
    {12, "Doors", "locked", "unlocked"},
    {13, "Door 1 (front)", "open", "closed"},
    {14, "Door 2 (middle)", "open", "closed"},
    {15, "Door 3 (rear)", "open", "closed"},
    {16, "Door 4 (driver)", "open", "closed"},
    {17, "Door 5", "open", "closed"},
    {18, "GPS used", "yes", "no"},
    {19, "BeiDou used", "yes", "no"},
    {20, "GLONASS used", "yes", "no"},
    {21, "Galileo used", "yes", "no"},
};

// The byte of a big-endian DWORD at `offset` that holds `bit`.
int byteOfBit(int offset, int bit) { return offset + 3 - bit / 8; }

// "Bit N: name" labels, built once.
template <typename Spec, size_t N>
const QStringList &bitLabels(const Spec (&specs)[N]) {
    static const QStringList labels = [&] {
        QStringList l;
        for (const Spec &s : specs)
            l << (s.name && QByteArray(s.name) == "Load"
                      ? QStringLiteral("Bits %1-%2: %3").arg(s.bit).arg(s.bit + 1).arg(QLatin1String(s.name))
                      : QStringLiteral("Bit %1: %2").arg(s.bit).arg(QLatin1String(s.name)));
        return l;
    }();
    return labels;
}

void addAlarmBits(Field &f, int offset, quint32 word, QStringList &alarms) {
    if (word == 0) {
        f.value = QStringLiteral("0x00000000 (none)");
        return;
    }
    QStringList names;
    const QStringList &labels = bitLabels(kAlarmBits);
    for (int i = 0; i < int(std::size(kAlarmBits)); ++i) {
        const AlarmBitSpec &a = kAlarmBits[i];
        if (!(word & (1u << a.bit)))
            continue;
        f.add(makeField(byteOfBit(offset, a.bit), 1, labels[i],
                        QStringLiteral("set (%1)").arg(QLatin1String(a.machine))));
        const QString m = QLatin1String(a.machine);
        names << QLatin1String(a.name);
        if (!alarms.contains(m))
            alarms << m;
    }
    f.value = QStringLiteral("0x%1 (%2)").arg(word, 8, 16, QLatin1Char('0')).arg(names.join(QStringLiteral(", ")));
}

void addStatusBits(Field &f, int offset, quint32 word) {
    f.value = QStringLiteral("0x%1").arg(word, 8, 16, QLatin1Char('0'));
    quint32 known = 0;
    static const char *const kLoad[] = {"empty", "half load", "reserved", "full load"};
    const QStringList &labels = bitLabels(kStatusBits);
    for (int i = 0; i < int(std::size(kStatusBits)); ++i) {
        const StatusBitSpec &s = kStatusBits[i];
        if (!s.set) {   // the two-bit load field
            known |= 3u << s.bit;
            f.add(makeField(byteOfBit(offset, s.bit), 1, labels[i], QLatin1String(kLoad[(word >> s.bit) & 3])));
            continue;
        }
        known |= 1u << s.bit;
        const bool on = word & (1u << s.bit);
        f.add(makeField(byteOfBit(offset, s.bit), 1, labels[i], QLatin1String(on ? s.set : s.clear)));
    }
    for (int bit = 0; bit < 32; ++bit)
        if ((word & (1u << bit)) && !(known & (1u << bit)))
            f.add(makeField(byteOfBit(offset, bit), 1, QStringLiteral("Bit %1: reserved / vendor-defined").arg(bit),
                            QStringLiteral("set")));
}

// ---- additional-information items ----
struct ItemCtx {
    Ctx &ctx;
    Field &item;        // the whole item (id, length, value)
    int valueOffset;
    QByteArray value;
    LocationResult &r;
    quint8 u8(int i) const { return quint8(value[i]); }
    quint16 u16(int i) const { return quint16((u8(i) << 8) | u8(i + 1)); }
    quint32 u32(int i) const { return (quint32(u16(i)) << 16) | u16(i + 2); }
    Field &child(int rel, int len, const QString &name, const QString &v) {
        return item.add(makeField(valueOffset + rel, len, name, v));
    }
};
using ItemFn = void (*)(ItemCtx &);

QString num(double v, int decimals) { return QString::number(v, 'f', decimals); }
// The item's text is made only when annotating; the server's fast path needs the typed values.
bool text(const ItemCtx &i) { return i.ctx.annotate(); }

void itemOdometer(ItemCtx &i) { if (text(i)) i.item.value = num(i.u32(0) / 10.0, 1) + QStringLiteral(" km"); }
void itemFuel(ItemCtx &i) { if (text(i)) i.item.value = num(i.u16(0) / 10.0, 1) + QStringLiteral(" L"); }
void itemTachoSpeed(ItemCtx &i) { if (text(i)) i.item.value = num(i.u16(0) / 10.0, 1) + QStringLiteral(" km/h"); }
void itemWord(ItemCtx &i) { if (text(i)) i.item.value = QString::number(i.u16(0)); }
void itemByte(ItemCtx &i) { if (text(i)) i.item.value = QString::number(i.u8(0)); }
void itemHex(ItemCtx &i) { if (text(i)) i.item.value = hex(i.value); }
void itemDwordHex(ItemCtx &i) { if (text(i)) i.item.value = QStringLiteral("0x%1").arg(i.u32(0), 8, 16, QLatin1Char('0')); }
void itemTemperature(ItemCtx &i) { if (text(i)) i.item.value = QString::number(qint16(i.u16(0))) + QStringLiteral(" °C"); }
void itemRssi(ItemCtx &i) {
    i.r.status.gsmSignal = i.u8(0);
    if (!text(i))
        return;
    i.item.value = QString::number(i.u8(0));
}
void itemSatellites(ItemCtx &i) {
    i.r.position.satellites = i.u8(0);
    if (!text(i))
        return;
    i.item.value = QString::number(i.u8(0));
}
void itemBatteryPercent(ItemCtx &i) {
    i.r.status.batteryPercent = i.u8(0);
    if (!text(i))
        return;
    i.item.value = QString::number(i.u8(0)) + QStringLiteral(" %");
}
void itemBatteryTens(ItemCtx &i) {   // 0x56: level in tens of percent, then a reserved byte
    i.r.status.batteryPercent = i.u8(0) * 10;
    if (!text(i))
        return;
    i.child(0, 1, QStringLiteral("Battery level"), QString::number(i.u8(0) * 10) + QStringLiteral(" %"));
    i.child(1, 1, QStringLiteral("Reserved"), hex(i.value.mid(1, 1)));
    i.item.value = QString::number(i.u8(0) * 10) + QStringLiteral(" %");
}
void itemBatteryCentivolts(ItemCtx &i) {
    i.r.status.batteryVolts = i.u16(0) / 100.0;
    if (!text(i))
        return;
    i.item.value = num(i.u16(0) / 100.0, 2) + QStringLiteral(" V");
}
void itemPowerDecivolts(ItemCtx &i) { if (text(i)) i.item.value = num(i.u16(0) / 10.0, 1) + QStringLiteral(" V"); }
void itemE3Battery(ItemCtx &i) {
    i.r.status.batteryPercent = i.u8(1);
    if (!text(i))
        return;
    i.child(0, 1, QStringLiteral("Reserved"), hex(i.value.mid(0, 1)));
    i.child(1, 1, QStringLiteral("Battery level"), QString::number(i.u8(1)) + QStringLiteral(" %"));
    i.child(2, 4, QStringLiteral("Undecoded"), hex(i.value.mid(2)));
    i.item.value = QString::number(i.u8(1)) + QStringLiteral(" %");
}
void itemE4Battery(ItemCtx &i) {
    i.r.status.batteryPercent = i.u8(1);
    if (!text(i))
        return;
    i.child(0, 1, QStringLiteral("Charge state"), hex(i.value.mid(0, 1)));
    i.child(1, 1, QStringLiteral("Battery level"), QString::number(i.u8(1)) + QStringLiteral(" %"));
    i.item.value = QString::number(i.u8(1)) + QStringLiteral(" %");
}
void itemOverspeed(ItemCtx &i) {
    if (!text(i))
        return;
    static const char *const kTypes[] = {"no specific location", "circle", "rectangle", "polygon", "route"};
    const int t = i.u8(0);
    const QString type = t < 5 ? QLatin1String(kTypes[t]) : QStringLiteral("unknown (%1)").arg(t);
    i.child(0, 1, QStringLiteral("Location type"), type);
    if (i.value.size() == 5)
        i.child(1, 4, QStringLiteral("Area / route ID"), QString::number(i.u32(1)));
    i.item.value = type;
}
void itemAreaInOut(ItemCtx &i) {
    static const char *const kTypes[] = {"none", "circle", "rectangle", "polygon", "route"};
    const int t = i.u8(0);
    const bool out = i.u8(5) == 1;
    // Refine the generic geofence / route alarm with the direction.
    const bool route = t == 4;
    const QString generic = route ? QStringLiteral("route") : QStringLiteral("geofence");
    const int idx = i.r.alarms.indexOf(generic);
    if (idx >= 0)
        i.r.alarms[idx] = route ? (out ? QStringLiteral("routeExit") : QStringLiteral("routeEnter"))
                                : (out ? QStringLiteral("geofenceExit") : QStringLiteral("geofenceEnter"));
    if (!text(i))
        return;
    i.child(0, 1, QStringLiteral("Location type"), t < 5 ? QLatin1String(kTypes[t]) : QStringLiteral("unknown (%1)").arg(t));
    i.child(1, 4, QStringLiteral("Area / route ID"), QString::number(i.u32(1)));
    i.child(5, 1, QStringLiteral("Direction"), out ? QStringLiteral("out") : QStringLiteral("in"));
    i.item.value = QStringLiteral("%1 %2").arg(out ? QStringLiteral("out of") : QStringLiteral("into")).arg(i.u32(1));
}
void itemRouteTime(ItemCtx &i) {
    if (!text(i))
        return;
    i.child(0, 4, QStringLiteral("Route ID"), QString::number(i.u32(0)));
    i.child(4, 2, QStringLiteral("Driving time"), QString::number(i.u16(4)) + QStringLiteral(" s"));
    i.child(6, 1, QStringLiteral("Result"), i.u8(6) ? QStringLiteral("too long") : QStringLiteral("too short"));
    i.item.value = QStringLiteral("route %1, %2 s").arg(i.u32(0)).arg(i.u16(4));
}
void itemIoStatus(ItemCtx &i) {
    if (!text(i))
        return;
    const quint16 w = i.u16(0);
    i.child(1, 1, QStringLiteral("Bit 0: Deep sleep"), (w & 1) ? QStringLiteral("yes") : QStringLiteral("no"));
    i.child(1, 1, QStringLiteral("Bit 1: Sleep"), (w & 2) ? QStringLiteral("yes") : QStringLiteral("no"));
    i.item.value = QStringLiteral("0x%1").arg(w, 4, 16, QLatin1Char('0'));
}
void itemAnalog(ItemCtx &i) {
    if (!text(i))
        return;
    i.child(0, 2, QStringLiteral("AD1"), QString::number(i.u16(0)));
    i.child(2, 2, QStringLiteral("AD0"), QString::number(i.u16(2)));
    i.item.value = QStringLiteral("AD0 %1, AD1 %2").arg(i.u16(2)).arg(i.u16(0));
}

// 0xEB (vendor): a nested list of WORD length (type + value), WORD type, value.
void itemNestedList(ItemCtx &i) {
    int p = 0;
    int count = 0;
    const bool annotate = i.ctx.annotate();
    while (i.value.size() - p >= 4) {
        const int len = i.u16(p);
        const int type = i.u16(p + 2);
        if (len < 2 || p + 2 + len > i.value.size())
            break;
        const int vn = len - 2;   // value bytes
        const quint32 n = vn == 1 ? i.u8(p + 4) : vn == 2 ? i.u16(p + 4) : 0;
        const bool volts = type == 0x002D && vn == 2;
        const bool level = (type == 0x00A8 || type == 0x00E1) && vn == 1;
        if (volts)
            i.r.status.batteryVolts = n / 1000.0;
        else if (level)
            i.r.status.batteryPercent = int(n);
        if (!annotate) {   // the server's fast path: the typed values only, no text
            p += 2 + len;
            continue;
        }
        const QByteArray v = i.value.mid(p + 4, vn);
        QString name = QStringLiteral("Sub-item 0x%1").arg(type, 4, 16, QLatin1Char('0'));
        QString value = v.isEmpty() ? QString() : textOrHex(v);
        if (type == 0x00B2) {
            name = QStringLiteral("ICCID");
            value = hex(v);
            while (value.endsWith(QLatin1Char('f')))
                value.chop(1);
        } else if (volts) {
            name = QStringLiteral("Battery voltage");
            value = num(n / 1000.0, 3) + QStringLiteral(" V");
        } else if (level) {
            name = QStringLiteral("Battery level");
            value = QString::number(n) + QStringLiteral(" %");
        }
        Field &sub = i.child(p, 2 + len, name, value);
        sub.add(makeField(i.valueOffset + p, 2, QStringLiteral("Length"), QString::number(len)));
        sub.add(makeField(i.valueOffset + p + 2, 2, QStringLiteral("Type"), QStringLiteral("0x%1").arg(type, 4, 16, QLatin1Char('0'))));
        p += 2 + len;
        ++count;
    }
    if (!annotate)
        return;
    if (p < i.value.size()) {
        Field &u = i.child(p, i.value.size() - p, QStringLiteral("Undecoded"), hex(i.value.mid(p)));
        u.warning = QStringLiteral("not a complete sub-item");
    }
    i.item.value = QStringLiteral("%1 sub-items").arg(count);
}

struct ItemSpec {
    int id;
    int length;          // -1: any
    const char *name;
    ItemFn fn;
};
// Standard items (JT/T 808-2013/2019 table 27) first, then vendor conventions that are
// confirmed by real device data in tests/data/jt808_vectors.tsv (row ids in comments).
constexpr ItemSpec kItems[] = {
    {0x01, 4, "Odometer", itemOdometer},
    {0x02, 2, "Fuel", itemFuel},
    {0x03, 2, "Tachograph speed", itemTachoSpeed},
    {0x04, 2, "Alarm event ID (manual confirmation)", itemWord},
    {0x05, 30, "Tyre pressure", itemHex},
    {0x06, 2, "Compartment temperature", itemTemperature},
    {0x06, 1, "Battery level (vendor)", itemBatteryPercent},                 // T021
    {0x07, -1, "Satellite status", itemHex},
    {0x11, 1, "Overspeed alarm info", itemOverspeed},
    {0x11, 5, "Overspeed alarm info", itemOverspeed},
    {0x12, 6, "Area / route in-out alarm info", itemAreaInOut},
    {0x13, 7, "Route driving time alarm info", itemRouteTime},
    {0x25, 4, "Extended vehicle signals", itemDwordHex},
    {0x2A, 2, "IO status", itemIoStatus},
    {0x2B, 4, "Analog inputs", itemAnalog},
    {0x30, 1, "Network signal strength", itemRssi},
    {0x31, 1, "GNSS satellites", itemSatellites},
    {0xE0, 1, "Custom block length", itemByte},
    {0x56, 2, "Battery level (vendor)", itemBatteryTens},                    // T039
    {0x69, 2, "Battery voltage (vendor)", itemBatteryCentivolts},            // T041
    {0xD4, 1, "Battery level (vendor)", itemBatteryPercent},                 // T007
    {0xE1, 1, "Battery level (vendor)", itemBatteryPercent},                 // T043
    {0xE1, 2, "External power (vendor)", itemPowerDecivolts},                // T003
    {0xE3, 6, "Battery (vendor)", itemE3Battery},                            // T029
    {0xE4, 2, "Charge state / battery level (vendor)", itemE4Battery},       // T004, T016
    {0xFE, 1, "Battery level (vendor)", itemBatteryPercent},                 // T064
    {0xEB, -1, "Extended items (vendor)", itemNestedList},                   // T009, T031, T032, T052
};

const ItemSpec *findItem(int id, int length) {
    for (const ItemSpec &s : kItems)
        if (s.id == id && (s.length < 0 || s.length == length))
            return &s;
    return nullptr;
}

bool allZero(const QByteArray &b) {
    for (char c : b)
        if (c != 0)
            return false;
    return true;
}

// True when `b` is exactly a sequence of ID/length items.
bool itemsTile(const QByteArray &b) {
    int p = 0;
    while (p + 2 <= b.size())
        p += 2 + quint8(b[p + 1]);
    return p == b.size();
}

// Exactly 18 bytes after the basic block that are not items: a fixed vendor layout
// (Traccar's special case; real data: tests/data/jt808_vectors.tsv T065).
void decodeFixedVendorTail(Ctx &ctx, Cursor &c, LocationResult &r) {
    Field tail = makeField(c.pos(), 18, QStringLiteral("Vendor block (fixed 18-byte layout)"));
    Cursor t(ctx, tail, c.pos(), 18);
    const int o = c.pos();
    t.add(4, QStringLiteral("Reserved"), hex(ctx.b.mid(o, 4)));
    t.add(4, QStringLiteral("Odometer"), QStringLiteral("%1 km").arg(t.u32(o + 4)));
    r.status.batteryVolts = t.u16(o + 8) / 10.0;
    t.add(2, QStringLiteral("Battery voltage"), QStringLiteral("%1 V").arg(t.u16(o + 8) / 10.0, 0, 'f', 1));
    t.add(4, QStringLiteral("Area ID"), QString::number(t.u32(o + 10)));
    r.status.gsmSignal = t.u8(o + 14);
    t.add(1, QStringLiteral("Network signal strength"), QString::number(t.u8(o + 14)));
    t.add(3, QStringLiteral("Reserved"), hex(ctx.b.mid(o + 15, 3)));
    c.parent.add(std::move(tail));
    c.skipTo(o + 18);
}

void decodeItems(Ctx &ctx, Field &parent, int offset, int length, LocationResult &r) {
    Field list = makeField(offset, length, QStringLiteral("Additional information"));
    int p = offset;
    const int end = offset + length;
    int count = 0;
    while (p < end) {
        const int left = end - p;
        if (allZero(ctx.b.mid(p, left))) {   // item 0x00 does not exist: zero padding
            if (ctx.annotate())
                list.add(makeField(p, left, QStringLiteral("Padding"), QStringLiteral("%1 zero bytes").arg(left)));
            break;
        }
        if (left < 2) {
            Field &f = list.add(makeField(p, left, QStringLiteral("Undecoded"), hex(ctx.b.mid(p, left))));
            f.warning = QStringLiteral("a lone byte is not an item");
            ctx.frame.warnings << QStringLiteral("additional information: stray byte at offset %1").arg(p);
            break;
        }
        const int id = quint8(ctx.b[p]);
        const int len = quint8(ctx.b[p + 1]);
        if (len > left - 2) {
            Field &f = list.add(makeField(p, left, QStringLiteral("Truncated item 0x%1").arg(id, 2, 16, QLatin1Char('0')),
                                          hex(ctx.b.mid(p, left))));
            f.warning = QStringLiteral("declares %1 value bytes, only %2 left").arg(len).arg(left - 2);
            ctx.frame.warnings << QStringLiteral("additional item 0x%1 at offset %2 runs past the end of the body")
                                      .arg(id, 2, 16, QLatin1Char('0')).arg(p);
            break;
        }
        const QByteArray value = ctx.b.mid(p + 2, len);
        const ItemSpec *spec = findItem(id, len);
        if (!ctx.annotate()) {
            // The item decoders also fill the typed result; their fields go to a scratch item.
            if (spec) {
                Field scratch;
                ItemCtx ic{ctx, scratch, p + 2, value, r};
                spec->fn(ic);
            }
            p += 2 + len;
            continue;
        }
        QString name;
        if (spec)
            name = QLatin1String(spec->name);
        else if (id >= 0xE1)
            name = QStringLiteral("Vendor item 0x%1").arg(id, 2, 16, QLatin1Char('0'));
        else
            name = QStringLiteral("Item 0x%1").arg(id, 2, 16, QLatin1Char('0'));
        Field item = makeField(p, 2 + len, name);
        item.add(makeField(p, 1, QStringLiteral("ID"), hexByte(id)));
        item.add(makeField(p + 1, 1, QStringLiteral("Length"), QString::number(len)));
        if (spec) {
            ItemCtx ic{ctx, item, p + 2, value, r};
            spec->fn(ic);
        } else {
            item.value = value.isEmpty() ? QStringLiteral("(empty)") : textOrHex(value);
        }
        list.add(std::move(item));
        p += 2 + len;
        ++count;
    }
    if (ctx.annotate()) {
        list.value = QStringLiteral("%1 items").arg(count);
        parent.add(std::move(list));
    }
}

} // namespace

// Built in a stack buffer (textline::Line): the server's fast path makes one per location.
QString positionSummary(const Position &p, const QStringList &alarms) {
    textline::Line l;
    l.fixed(p.latitude, 6) << ", ";
    l.fixed(p.longitude, 6);
    if (p.time.isValid())
        l << " at " << formatTime(p.time.toUTC()) << " UTC";
    if (p.speedKmh) {
        l << ", ";
        l.fixed(*p.speedKmh, 1) << " km/h";
    }
    if (!p.valid)
        l << ", no fix";
    if (!alarms.isEmpty()) {
        l << ", alarms: ";
        for (qsizetype i = 0; i < alarms.size(); ++i) {
            if (i)
                l << ", ";
            l << alarms[i];
        }
    }
    return l.toString();
}

LocationResult decodeLocationBody(Ctx &ctx, Field &parent, int offset, int length) {
    LocationResult r;
    Cursor c(ctx, parent, offset, length);
    if (!c.need(28, QStringLiteral("location basic block (28 bytes)")))
        return r;
    const int o = c.pos();
    const quint32 alarm = c.u32(o);
    const quint32 status = c.u32(o + 4);
    r.alarmWord = alarm;
    if (c.annotate()) {
        addAlarmBits(c.add(4, QStringLiteral("Alarm flags")), o, alarm, r.alarms);
        addStatusBits(c.add(4, QStringLiteral("Status")), o + 4, status);
    } else {
        c.skipTo(o + 8);
        for (const AlarmBitSpec &a : kAlarmBits) {   // the alarm names only, as addAlarmBits
            if (!(alarm & (1u << a.bit)))
                continue;   // no string for the (usual) bits that are clear
            const QString m = QLatin1String(a.machine);
            if (!r.alarms.contains(m))
                r.alarms << m;
        }
    }

    Position &p = r.position;
    p.valid = status & 2;
    p.source = PositionSource::Gps;
    const quint32 rawLat = c.u32(o + 8);
    const quint32 rawLon = c.u32(o + 12);
    p.latitude = rawLat / 1e6 * ((status & 4) ? -1 : 1);
    p.longitude = rawLon / 1e6 * ((status & 8) ? -1 : 1);
    {
        Field &f = c.add(4, QStringLiteral("Latitude"), !c.annotate() ? QString() : QStringLiteral("%1° %2").arg(rawLat / 1e6, 0, 'f', 6)
                                                            .arg((status & 4) ? QLatin1Char('S') : QLatin1Char('N')));
        if (rawLat > 90000000u) {
            f.warning = QStringLiteral("latitude beyond 90°");
            ctx.frame.warnings << QStringLiteral("latitude %1 is beyond 90°").arg(rawLat / 1e6);
        }
    }
    {
        Field &f = c.add(4, QStringLiteral("Longitude"), !c.annotate() ? QString() : QStringLiteral("%1° %2").arg(rawLon / 1e6, 0, 'f', 6)
                                                             .arg((status & 8) ? QLatin1Char('W') : QLatin1Char('E')));
        if (rawLon > 180000000u) {
            f.warning = QStringLiteral("longitude beyond 180°");
            ctx.frame.warnings << QStringLiteral("longitude %1 is beyond 180°").arg(rawLon / 1e6);
        }
    }
    const qint16 alt = qint16(c.u16(o + 16));
    p.altitude = alt;
    c.add(2, QStringLiteral("Altitude"), c.annotate() ? QStringLiteral("%1 m").arg(alt) : QString());
    const double speed = c.u16(o + 18) / 10.0;
    p.speedKmh = speed;
    c.add(2, QStringLiteral("Speed"), c.annotate() ? QStringLiteral("%1 km/h").arg(speed, 0, 'f', 1) : QString());
    const int course = c.u16(o + 20);
    p.course = course;
    Field &cf = c.add(2, QStringLiteral("Course"), c.annotate() ? QStringLiteral("%1°").arg(course) : QString());
    if (course > 359)
        cf.warning = QStringLiteral("course beyond 359°");
    const QDateTime local = bcdDateTime(ctx.b.mid(o + 22, 6));
    Field &tf = c.add(6, QStringLiteral("Time"));
    if (local.isValid()) {
        p.time = local.addSecs(-qint64(ctx.timeZoneMinutes) * 60);
        p.timeValid = true;
        if (c.annotate())
            tf.value = describeDeviceTime(local, ctx.timeZoneMinutes, p.time);
    } else {
        p.timeValid = false;
        if (c.annotate())
            tf.value = hex(ctx.b.mid(o + 22, 6));
        tf.warning = QStringLiteral("not a valid BCD date/time");
    }
    r.status.acc = bool(status & 1);
    r.status.relayCut = bool(status & ((1u << 10) | (1u << 11)));
    r.complete = true;
    if (c.left() == 18 && !itemsTile(ctx.b.mid(c.pos(), 18)))
        decodeFixedVendorTail(ctx, c, r);
    else if (c.left() > 0)
        decodeItems(ctx, c.parent, c.pos(), c.left(), r);
    return r;
}

namespace {

void applyToMessage(Ctx &ctx, const LocationResult &r) {
    Message &m = ctx.frame.message;
    if (!r.complete)
        return;
    m.positions << r.position;
    m.status = r.status;
    for (const QString &a : r.alarms)
        if (!m.alarms.contains(a))
            m.alarms << a;
}

} // namespace

void decodeLocationReport(Ctx &ctx, Cursor &c) {
    const LocationResult r = decodeLocationBody(ctx, c.parent, c.pos(), c.left());
    applyToMessage(ctx, r);
    if (r.complete) {
        if (!r.alarms.isEmpty() && ctx.frame.message.kind == MessageKind::Position)
            ctx.frame.message.kind = MessageKind::Alarm;
        ctx.frame.summary = positionSummary(r.position, r.alarms);
    }
}

void decodeLocationQueryResponse(Ctx &ctx, Cursor &c) {
    if (!c.need(2, QStringLiteral("response serial")))
        return;
    c.add(2, QStringLiteral("Response serial (of the 0x8201 query)"), QString::number(c.u16(c.pos())));
    const LocationResult r = decodeLocationBody(ctx, c.parent, c.pos(), c.left());
    applyToMessage(ctx, r);
    if (r.complete)
        ctx.frame.summary = positionSummary(r.position, r.alarms);
}

void decodeLocationBatch(Ctx &ctx, Cursor &c) {
    if (!c.need(3, QStringLiteral("batch header")))
        return;
    const int count = c.u16(c.pos());
    c.add(2, QStringLiteral("Item count"), QString::number(count));
    const int type = c.u8(c.pos());
    c.add(1, QStringLiteral("Batch type"), type == 0 ? QStringLiteral("0 (normal)")
                                         : type == 1 ? QStringLiteral("1 (blind-area backlog)")
                                                     : QStringLiteral("%1 (unknown)").arg(type));
    int items = 0;
    while (c.left() > 0) {
        if (!c.need(2, QStringLiteral("item length")))
            break;
        const int len = c.u16(c.pos());
        if (len > c.left() - 2) {
            Field &f = c.add(c.left(), QStringLiteral("Truncated item %1").arg(items + 1), hex(c.bytes(c.left())));
            f.warning = QStringLiteral("declares %1 bytes, only %2 left").arg(len).arg(c.left() - 2);
            ctx.frame.warnings << QStringLiteral("batch item %1 runs past the end of the body").arg(items + 1);
            break;
        }
        Field item = makeField(c.pos(), 2 + len, QStringLiteral("Location %1").arg(items + 1));
        item.add(makeField(c.pos(), 2, QStringLiteral("Item length"), QString::number(len)));
        const LocationResult r = decodeLocationBody(ctx, item, c.pos() + 2, len);
        if (r.complete)
            item.value = positionSummary(r.position, r.alarms);
        applyToMessage(ctx, r);
        c.parent.add(std::move(item));
        c.skipTo(c.pos() + 2 + len);
        ++items;
    }
    if (items != count)
        ctx.frame.warnings << QStringLiteral("batch says %1 items, the body holds %2").arg(count).arg(items);
    ctx.frame.summary = QStringLiteral("%1 position%2%3").arg(ctx.frame.message.positions.size())
                            .arg(ctx.frame.message.positions.size() == 1 ? QString() : QStringLiteral("s"))
                            .arg(type == 1 ? QStringLiteral(" (blind-area backlog)") : QString());
}

// 0x0210 (vendor): items with 1-byte lengths; a 7-byte body is battery level + BCD time.
void decodeVendorLocationBatch(Ctx &ctx, Cursor &c) {
    if (c.left() == 7) {
        const int level = c.u8(c.pos());
        c.add(1, QStringLiteral("Battery level"), QStringLiteral("%1 %").arg(level));
        const QDateTime local = bcdDateTime(c.bytes(6));
        Field &tf = c.add(6, QStringLiteral("Time"));
        Status s;
        s.batteryPercent = level;
        ctx.frame.message.status = s;
        ctx.frame.message.kind = MessageKind::Status;
        if (local.isValid()) {
            tf.value = describeDeviceTime(local, ctx.timeZoneMinutes, local.addSecs(-qint64(ctx.timeZoneMinutes) * 60));
        } else {
            tf.value = hex(ctx.b.mid(tf.offset, 6));
            tf.warning = QStringLiteral("not a valid BCD date/time");
        }
        ctx.frame.summary = QStringLiteral("battery %1 %").arg(level);
        return;
    }
    int items = 0;
    while (c.left() > 0) {
        const int len = c.u8(c.pos());
        if (len > c.left() - 1) {
            Field &f = c.add(c.left(), QStringLiteral("Truncated item %1").arg(items + 1), hex(c.bytes(c.left())));
            f.warning = QStringLiteral("declares %1 bytes, only %2 left").arg(len).arg(c.left() - 1);
            ctx.frame.warnings << QStringLiteral("batch item %1 runs past the end of the body").arg(items + 1);
            break;
        }
        Field item = makeField(c.pos(), 1 + len, QStringLiteral("Location %1").arg(items + 1));
        item.add(makeField(c.pos(), 1, QStringLiteral("Item length"), QString::number(len)));
        const LocationResult r = decodeLocationBody(ctx, item, c.pos() + 1, len);
        if (r.complete)
            item.value = positionSummary(r.position, r.alarms);
        applyToMessage(ctx, r);
        c.parent.add(std::move(item));
        c.skipTo(c.pos() + 1 + len);
        ++items;
    }
    ctx.frame.summary = QStringLiteral("%1 position%2").arg(ctx.frame.message.positions.size())
                            .arg(ctx.frame.message.positions.size() == 1 ? QString() : QStringLiteral("s"));
}

// 0x5501 / 0x5502 (vendor e-lock reports, JT600 binary layout): BCD DDMMYY hhmmss time (UTC),
// BCD ddmm.mmmm latitude (8 digits), BCD dddmm.mmmm longitude (9 digits) sharing a byte with
// the flags nibble (bit 0 fix, bit 1 north, bit 2 east), BCD speed km/h, course / 2, signal,
// satellites, odometer km, battery (% or 0xAA/0xAB charging), cell id, LAC, product, status,
// alarm, then ID/length items.
void decodeVendorLocation(Ctx &ctx, Cursor &c) {
    if (!c.need(35, QStringLiteral("JT600 binary location (35 bytes)")))
        return;
    const int o = c.pos();
    Position p;
    bool ok = true;
    const QString t = bcdDigits(ctx.b.mid(o, 6), &ok);
    Field &tf = c.add(6, QStringLiteral("Time"));
    QDateTime utc;
    if (ok) {
        const QDate d(2000 + t.mid(4, 2).toInt(), t.mid(2, 2).toInt(), t.mid(0, 2).toInt());
        const QTime tm(t.mid(6, 2).toInt(), t.mid(8, 2).toInt(), t.mid(10, 2).toInt());
        utc = QDateTime(d, tm, QTimeZone::UTC);
    }
    // Traccar reads this layout as UTC; a per-device offset applies when one is configured.
    const int tz = ctx.options.timeZoneMinutes.value_or(0);
    const bool text = c.annotate();   // no value text on the server's fast path
    if (utc.isValid()) {
        p.time = utc.addSecs(-qint64(tz) * 60);
        if (text)
            tf.value = describeDeviceTime(utc, tz, p.time);
    } else {
        p.timeValid = false;
        if (text)
            tf.value = hex(ctx.b.mid(o, 6));
        tf.warning = QStringLiteral("not a valid BCD DDMMYYhhmmss time");
    }
    bool okLat = true, okLon = true;
    const QString latDigits = bcdDigits(ctx.b.mid(o + 6, 4), &okLat);
    const QString lonAndFlags = bcdDigits(ctx.b.mid(o + 10, 4), &okLon) + QString::number(c.u8(o + 14) >> 4);
    const int flags = c.u8(o + 14) & 0x0F;
    auto coordinate = [](const QString &digits, int degreeDigits) {
        return digits.left(degreeDigits).toInt() + digits.mid(degreeDigits).toInt() / 10000.0 / 60.0;
    };
    double lat = coordinate(latDigits, 2);
    double lon = coordinate(lonAndFlags, 3);
    if (!(flags & 2))
        lat = -lat;
    if (!(flags & 4))
        lon = -lon;
    p.latitude = lat;
    p.longitude = lon;
    p.valid = flags & 1;
    Field &latF = c.add(4, QStringLiteral("Latitude"), text ? QStringLiteral("%1° (%2)").arg(lat, 0, 'f', 6).arg(latDigits) : QString());
    if (!okLat)
        latF.warning = QStringLiteral("not BCD");
    Field &lonF = c.add(5, QStringLiteral("Longitude and flags"), text ? QStringLiteral("%1°").arg(lon, 0, 'f', 6) : QString());
    if (!okLon)
        lonF.warning = QStringLiteral("not BCD");
    if (text)
        lonF.add(makeField(o + 14, 1, QStringLiteral("Flags"),
                           QStringLiteral("%1, %2, %3").arg((flags & 1) ? QStringLiteral("fix") : QStringLiteral("no fix"),
                                                            (flags & 2) ? QStringLiteral("north") : QStringLiteral("south"),
                                                            (flags & 4) ? QStringLiteral("east") : QStringLiteral("west"))));
    bool okSpeed = true;
    const int speed = bcdDigits(ctx.b.mid(o + 15, 1), &okSpeed).toInt();
    p.speedKmh = speed;
    c.add(1, QStringLiteral("Speed"), text ? QStringLiteral("%1 km/h").arg(speed) : QString());
    p.course = c.u8(o + 16) * 2;
    c.add(1, QStringLiteral("Course"), text ? QStringLiteral("%1°").arg(c.u8(o + 16) * 2) : QString());
    Status s;
    s.gsmSignal = c.u8(o + 17);
    c.add(1, QStringLiteral("Network signal strength"), text ? QString::number(c.u8(o + 17)) : QString());
    p.satellites = c.u8(o + 18);
    c.add(1, QStringLiteral("Satellites"), text ? QString::number(c.u8(o + 18)) : QString());
    c.add(4, QStringLiteral("Odometer"), text ? QStringLiteral("%1 km").arg(c.u32(o + 19)) : QString());
    const int battery = c.u8(o + 23);
    QString bv;
    if (battery <= 100) {
        s.batteryPercent = battery;
        bv = QStringLiteral("%1 %").arg(battery);
    } else if (battery == 0xAA || battery == 0xAB) {
        s.charging = true;
        bv = QStringLiteral("charging (0x%1)").arg(battery, 2, 16);
    } else {
        bv = QStringLiteral("0x%1").arg(battery, 2, 16, QLatin1Char('0'));
    }
    c.add(1, QStringLiteral("Battery"), text ? bv : QString());
    CellTower cell;
    cell.cellId = c.u32(o + 24);
    cell.lac = c.u16(o + 28);
    c.add(4, QStringLiteral("Cell ID"), text ? QString::number(cell.cellId) : QString());
    c.add(2, QStringLiteral("LAC"), text ? QString::number(cell.lac) : QString());
    p.cells << cell;
    c.add(1, QStringLiteral("Product type"), text ? QString::number(c.u8(o + 30)) : QString());
    c.add(2, QStringLiteral("Status"), text ? QStringLiteral("0x%1").arg(c.u16(o + 31), 4, 16, QLatin1Char('0')) : QString());
    c.add(2, QStringLiteral("Alarm"), text ? QStringLiteral("0x%1").arg(c.u16(o + 33), 4, 16, QLatin1Char('0')) : QString());
    while (c.left() >= 2) {
        const int at = c.pos();
        const int id = c.u8(at);
        const int len = c.u8(at + 1);
        if (len > c.left() - 2)
            break;
        if (!text) {
            c.skipTo(at + 2 + len);
            continue;
        }
        Field &f = c.add(2 + len, QStringLiteral("Item 0x%1").arg(id, 2, 16, QLatin1Char('0')),
                         len ? textOrHex(ctx.b.mid(at + 2, len)) : QStringLiteral("(empty)"));
        f.add(makeField(at, 1, QStringLiteral("ID"), hexByte(id)));
        f.add(makeField(at + 1, 1, QStringLiteral("Length"), QString::number(len)));
    }
    if (c.left() > 0) {
        c.add(c.left(), QStringLiteral("Undecoded"), c.annotate() ? hex(c.bytes(c.left())) : QString()).warning =
            QStringLiteral("not a complete item");
    }
    ctx.frame.message.positions << p;
    ctx.frame.message.status = s;
    ctx.frame.summary = positionSummary(p, {});
}

} // namespace detail

namespace {
// Names that also set a bit of kAlarmBits (the direction is in the alarm's extra data).
struct AlarmAlias {
    const char *machine;
    int bit;
};
constexpr AlarmAlias kAlarmAliases[] = {
    {"geofenceEnter", 20}, {"geofenceExit", 20}, {"routeEnter", 21}, {"routeExit", 21},
};
} // namespace

std::optional<int> alarmBit(const QString &machineName) {
    for (const auto &a : detail::kAlarmBits)
        if (machineName == QLatin1String(a.machine))
            return a.bit;
    for (const AlarmAlias &a : kAlarmAliases)
        if (machineName == QLatin1String(a.machine))
            return a.bit;
    return std::nullopt;
}

QStringList alarmNames() {
    QStringList names;
    for (const auto &a : detail::kAlarmBits) {
        names << QLatin1String(a.machine);
        for (const AlarmAlias &alias : kAlarmAliases)
            if (alias.bit == a.bit)
                names << QLatin1String(alias.machine);
    }
    names.removeDuplicates();
    return names;
}

QByteArray encodeLocation(const Terminal &from, quint16 serial, const Position &position, const LocationOptions &options) {
    auto put16 = [](QByteArray &b, quint16 v) { b.append(char(v >> 8)); b.append(char(v)); };
    auto put32 = [&](QByteArray &b, quint32 v) { put16(b, quint16(v >> 16)); put16(b, quint16(v)); };
    QByteArray body;
    quint32 status = options.extraStatusBits;
    if (options.acc)
        status = *options.acc ? (status | 1u) : (status & ~1u);
    if (position.valid)
        status |= 2u;
    if (position.latitude < 0)
        status |= 4u;
    if (position.longitude < 0)
        status |= 8u;
    put32(body, options.alarmBits);
    put32(body, status);
    put32(body, quint32(std::llround(std::fabs(position.latitude) * 1e6)));
    put32(body, quint32(std::llround(std::fabs(position.longitude) * 1e6)));
    put16(body, quint16(qint16(std::lround(position.altitude.value_or(0)))));
    put16(body, quint16(std::lround(position.speedKmh.value_or(0) * 10)));
    put16(body, quint16(std::lround(position.course.value_or(0))) % 360);
    const QDateTime local = position.time.toUTC().addSecs(qint64(options.timeZoneMinutes) * 60);
    body += detail::toBcd(local.toString(QStringLiteral("yyMMddHHmmss")));
    if (options.odometerKm) {
        body.append(char(0x01));
        body.append(char(4));
        put32(body, quint32(std::llround(*options.odometerKm * 10)));
    }
    if (options.batteryPercent) {
        body.append(char(0x06));
        body.append(char(1));
        body.append(char(qBound(0, *options.batteryPercent, 100)));
    }
    if (options.gsmSignal) {
        body.append(char(0x30));
        body.append(char(1));
        body.append(char(qBound(0, *options.gsmSignal, 255)));
    }
    if (position.satellites) {
        body.append(char(0x31));
        body.append(char(1));
        body.append(char(qBound(0, *position.satellites, 255)));
    }
    return buildFrame(msg::Location, from, serial, body);
}

} // namespace td::proto::jt808
