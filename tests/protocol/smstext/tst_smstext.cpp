// Tests of the SMS text position parser (td::proto::sms).
//
// Three kinds of positive examples, kept apart and labelled:
//   * vectors   - every row of tests/data/sms_vectors.tsv (samples with their sources),
//                 compared against its expected_json; plus further values the SMS format
//                 notes (formats.md) state for the same samples.
//   * seed      - the samples printed on the "Trackbox" supported-formats page that the
//                 seed list of formats comes from (gpstrack.xtremeweb.de, copy in
//                 shared/seeds/004_c5fab619da7fa57e.txt); expected values computed by hand
//                 from the format rules (several cross-check: SPT100/Phonetracker/GPS;lat;lon
//                 repeat the GPRMC sample's 52.136087/11.537557, Navideo T1 and CinnDev
//                 both give 52.188172/13.344893).
//   * constructed - CONSTRUCTED examples written for these tests (southern/western
//                 hemispheres, two positions, unicode, bad checksum, ...). Not device data.
// Expectations use one small JSON vocabulary (see checkExpectations()).
#include "trackerdesk/protocol/smstext.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <thread>
#include <vector>

using namespace td::proto;
using namespace td::proto::sms;

namespace {

// The format column of sms_vectors.tsv -> our format id.
QString formatIdForVector(const QString &id, const QString &tsvFormat) {
    static const QHash<QString, QString> byRow = {
        {QStringLiteral("S20"), QStringLiteral("gt06-url")},      // <DateTime:...> link (JM01 URL# reply)
        {QStringLiteral("S21"), QStringLiteral("coban-link")},    // link + ID/ACC/GPS/Speed (Coban g1234)
        {QStringLiteral("S22"), QStringLiteral("queclink-link")}, // link + F1 D... B74% (Queclink GL100)
    };
    static const QHash<QString, QString> byFormat = {
        {QStringLiteral("NMEA GPGGA"), QStringLiteral("nmea-gga")},
        {QStringLiteral("NMEA GPRMC"), QStringLiteral("nmea-rmc")},
        {QStringLiteral("Benefon LOC/EMG/EGN"), QStringLiteral("benefon")},
        {QStringLiteral("GPSWPT (Thuraya/Hughes 7101)"), QStringLiteral("gpswpt")},
        {QStringLiteral("Globalsat TR-101/102"), QStringLiteral("globalsat-tr101")},
        {QStringLiteral("Navideo LOC"), QStringLiteral("navideo-loc")},
        {QStringLiteral("PathAway $PWS"), QStringLiteral("pathaway")},
        {QStringLiteral("Xexun TK102 / TK-203 text"), QStringLiteral("xexun")},
        {QStringLiteral("PT-9 TIMER!/SOS!"), QStringLiteral("pt9")},
        {QStringLiteral("P-1 Last:"), QStringLiteral("p1")},
        {QStringLiteral("Teltonika GH1202"), QStringLiteral("teltonika")},
        {QStringLiteral("PATROL HAWK"), QStringLiteral("patrol-hawk")},
        {QStringLiteral("GT06/Concox WHERE#"), QStringLiteral("gt06-where")},
        {QStringLiteral("V-Sun TK205 multi-line"), QStringLiteral("vsun-tk205")},
        {QStringLiteral("Globalsat TR-150 Format1"), QStringLiteral("globalsat-tr150")},
        {QStringLiteral("Midland GEO POS:"), QStringLiteral("midland-geo")},
    };
    if (byRow.contains(id))
        return byRow.value(id);
    return byFormat.value(tsvFormat);
}

// Values the SMS format notes (shared/reference/sms/formats.md) state for the same samples
// beyond the TSV's expected_json.
QString formatsMdExtra(const QString &id) {
    static const QHash<QString, QString> extra = {
        {QStringLiteral("S05"), QStringLiteral(R"({"note": "emergency"})")},                                   // §7 EMG
        {QStringLiteral("S13"), QStringLiteral(R"({"note": "SOS", "note2": "IMEI 359587011016261"})")},       // §3 heip me
        {QStringLiteral("S15"), QStringLiteral(R"({"note": "last known fix"})")},                             // §5 Last:
        {QStringLiteral("S19"), QStringLiteral(R"({"note": "Current position"})")},                           // §13
        {QStringLiteral("S20"), QStringLiteral(R"({"time": "2010-11-23 23:42:51"})")},                        // §14
        {QStringLiteral("S21"), QStringLiteral(R"({"speed_kmh": 38.0, "time": "2019-12-30 03:20:08", "valid": true, "note": "ACC OFF"})")},  // §15
        {QStringLiteral("S22"), QStringLiteral(R"({"time": "2009-01-01 00:00:00", "valid": true, "note": "battery 74%"})")},               // §15
        {QStringLiteral("S24"), QStringLiteral(R"({"sats": 4, "note": "IMEI 353857014816785"})")},            // §9
        {QStringLiteral("S25"), QStringLiteral(R"({"note": "SOS ALARM"})")},                                  // §16
    };
    return extra.value(id);
}

struct Vector {
    QString id, source, format, text, expected;
};

QList<Vector> loadVectors() {
    QList<Vector> rows;
    QFile f(QStringLiteral(TD_TEST_DATA "/sms_vectors.tsv"));
    if (!f.open(QIODevice::ReadOnly))
        return rows;
    const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'));
    for (int i = 1; i < lines.size(); ++i) {   // line 0: header
        const QStringList c = lines[i].split(QLatin1Char('\t'));
        if (c.size() != 5)
            continue;
        QString text = c[3];
        text.replace(QLatin1String("\\n"), QLatin1String("\n"));   // the TSV escapes line breaks
        rows.append({c[0], c[1], c[2], text, c[4]});
    }
    return rows;
}

// Samples from the Trackbox supported-formats page (the seed list). Columns: label, text, expectations.
struct Sample {
    const char *label;
    const char *text;
    const char *expected;
};

const Sample kSeedSamples[] = {
    {"seed BlueSky", "BLUESKY 03.02.2007 10.24.42 POSITION VALID N 52.001038 E 11.668993 5 km to SBK",
     R"({"format": "bluesky", "lat": 52.001038, "lon": 11.668993, "time": "2007-02-03 10:24:42", "valid": true, "note": "5 km to SBK"})"},
    {"seed QVPOS", "$QVPOS,ExampleName,0,240207,230216.000,52.001164,11.423712,10.00,0,78.20,0*64",
     R"({"format": "qvpos", "lat": 52.001164, "lon": 11.423712, "time": "2007-02-24 23:02:16", "note": "ExampleName"})"},
    {"seed PathAway", "$PWS,1,\"Example Name\",,0,24022007,223337.000,52.101060,11.326186,232.61,0.61,140,pathaway format,0*7A",
     R"({"format": "pathaway", "lat": 52.10106, "lon": 11.326186, "time": "2007-02-24 22:33:37", "alt_m": 70.90, "speed_kmh": 1.13, "course": 140, "name": "Example Name"})"},
    {"seed GPS;lat;lon", "GPS;52.136087;11.537557",
     R"({"format": "gps-wait", "lat": 52.136087, "lon": 11.537557, "time_valid": false})"},
    {"seed GPS;lat;lon extended", "GPS;52.136087;11.537557;4;202.83;23",
     R"({"format": "gps-wait", "lat": 52.136087, "lon": 11.537557, "note": "4;202.83;23"})"},
    {"seed Fleetec", "MyCar:V00,290307,165014,5200.1164,N,01142.3712,E,078,13.04,06,A1.4,0,0,,0,,,",
     R"({"format": "fleetec", "lat": 52.00194, "lon": 11.706187, "time": "2007-03-29 16:50:14", "note": "V00"})"},
    {"seed Haicom", "HC-V3.5*SENSOR*A,N,52\"8'9.0,E,011\"32'15.7,023.2,156.7*",
     R"({"format": "haicom", "lat": 52.135833, "lon": 11.537694, "valid": true, "note": "SENSOR"})"},
    {"seed SPT100", "1321947318,20071215185638,11.537557,52.136087,0,110,0,6,0",
     R"({"format": "spt100", "lat": 52.136087, "lon": 11.537557, "time": "2007-12-15 18:56:38"})"},
    {"seed Phonetracker", "#PHONETRACKER#\nPosMsg\n21.12.2007 16:22:37\n52.136087,11.537557,12.00,178.68,0.3",
     R"({"format": "phonetracker", "lat": 52.136087, "lon": 11.537557, "time": "2007-12-21 16:22:37", "note": "PosMsg"})"},
    {"seed Xexun (Navideo)", "lat: 52.177337 long: 011.583638 speed: 020.0 03/03/08 14:37 www.navideo.net bat:F signal:F imei:123456789012",
     R"({"format": "xexun", "lat": 52.177337, "lon": 11.583638, "speed_kmh": 20.0, "time": "2008-03-03 14:37"})"},
    {"seed Xexun (N/E suffix)", "lat: 52.177337N long: 011.583638E speed: 020.0 10.03.2008 14:37 bat:F signal:F",
     R"({"format": "xexun", "lat": 52.177337, "lon": 11.583638, "speed_kmh": 20.0, "time": "2008-03-10 14:37"})"},
    {"seed TK102-2 move", "lat: 52.160701 long: 011.461048 speed: 13.00 08/08/09 13:04 F:4.32V,1, Signal:F move imei:123456789123339 05 164.3 262 07",
     R"({"format": "xexun", "lat": 52.160701, "lon": 11.461048, "speed_kmh": 13.0, "time": "2009-08-08 13:04", "note": "IMEI 123456789123339"})"},
    {"seed TK102-2", "lat: 52.160701 long: 011.461048 speed: 13.00 08/08/09 13:04 F:4.32V,1, Signal:F imei:123456789123339 05 164.3",
     R"({"format": "xexun", "lat": 52.160701, "lon": 11.461048, "speed_kmh": 13.0, "time": "2009-08-08 13:04"})"},
    {"seed Navideo T1", "26. September 2008,10.34.16,5211.2903,N,01320.6936,E",
     R"({"format": "navideo-t1", "lat": 52.188172, "lon": 13.344893, "time": "2008-09-26 10:34:16"})"},
    {"seed CinnDev", "An emergency distress beacon was set off by ___ at location 52.188172, 13.344893",
     R"({"format": "cinndev", "lat": 52.188172, "lon": 13.344893, "note": "emergency beacon"})"},
    {"seed Teltonika full", "BAT! Id:GH1202 Imei:353976013309921 Time:2008.11.28 08:42:39 Fix:52.41211,12.13148 Sat:4 Op:26201 Cell:8AD2 Sig_Lvl:11 Bat_Lvl:50",
     R"({"format": "teltonika", "lat": 52.41211, "lon": 12.13148, "time": "2008-11-28 08:42:39", "sats": 4, "note": "IMEI 353976013309921", "kind": "BAT"})"},
    {"seed Tripaal", "*245f6e2a*01205.0593,E,5244.2990,N,0.60,0.00*050209,000015.000**",
     R"({"format": "tripaal", "lat": 52.738317, "lon": 12.084322, "time": "2009-02-05 00:00:15"})"},
    {"seed GPSed", "Hi, you may locate me by following this link: http://where.gpsed.com/w.php?lat=52.177337&lon=11.583638",
     R"({"format": "gpsed", "lat": 52.177337, "lon": 11.583638})"},
    {"seed PATROL HAWK full", "Track Latitude:+54.1147;Longitude:+012.2727,Speed:0;ACC:ON",
     R"({"format": "patrol-hawk", "lat": 54.1147, "lon": 12.2727, "speed_kmh": 0, "note": "ACC ON"})"},
    {"seed gpspilot", "<rpt> <l> N 54 2.877' E013 12.100' <t> 14:13 UTC 06-05-10 <h> 010 <s> 5 kph <e> 1 m",
     R"({"format": "gpspilot", "lat": 54.04795, "lon": 13.201667, "course": 10, "speed_kmh": 5, "alt_m": 1, "time_valid": false, "note": "14:13:00 UTC"})"},
    {"seed Globalsat Emergency Report", "Emergency Report: 2006/8/18 14:31:29 52.191615,013.337700 GPS Fixed",
     R"({"format": "globalsat-tr101", "lat": 52.191615, "lon": 13.3377, "time": "2006-08-18 14:31:29", "valid": true, "kind": "Emergency Report"})"},
    {"seed Globalsat TR-150", "?477932004731009,1,3,291109,042102,E12129.2186,N2459.8915,283.8,0.08,251.84,05,1.9!",
     R"({"format": "globalsat-tr150", "lat": 24.998192, "lon": 121.486977, "time": "2009-11-29 04:21:02", "alt_m": 283.8, "speed_kmh": 0.148, "course": 251.84, "sats": 5})"},
    {"seed Navideo LOC with link", "Navideo LOC LAT:52.192905,LON:13.463279 www.navideo.net",
     R"({"format": "navideo-loc", "lat": 52.192905, "lon": 13.463279})"},
    {"seed Benefon EGN full", "!EGN_045 _N52.18.17,4_E013.05.57,7_20.10.2006_17:02:31_1_093_118_610,7,41118,17629,0,617,58,60,646,58,73,634,255,87,622,255,99,613,255,103,98,255,107,8,37629",
     R"({"format": "benefon", "lat": 52.304833, "lon": 13.099361, "time": "2006-10-20 17:02:31", "kind": "EGN"})"},
};

// CONSTRUCTED examples (not device data): shapes from the format rules, values chosen here.
const Sample kConstructed[] = {
    {"constructed GPRMC south/west", "$GPRMC,120000.000,A,3351.4020,S,15112.9180,W,12.5,270.0,020124,,,A*50",
     R"({"format": "nmea-rmc", "lat": -33.8567, "lon": -151.2153, "time": "2024-01-02 12:00:00", "speed_kmh": 23.15, "course": 270, "valid": true, "checksum_ok": true})"},
    {"constructed GPRMC status V with coordinates", "$GPRMC,052050.000,V,5208.1652,N,01132.2534,E,0.00,0.00,040307,,,N*7A",
     R"({"format": "nmea-rmc", "lat": 52.136087, "lon": 11.537557, "valid": false, "checksum_ok": true, "note": "status V"})"},
    {"constructed GPRMC bad checksum (S02 with *6B)", "$GPRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A*6B",
     R"({"format": "nmea-rmc", "lat": 52.136087, "lon": 11.537557, "valid": false, "checksum_ok": false, "note": "computed 6A"})"},
    {"constructed GPGGA fix quality 0, south/west", "$GPGGA,235959.000,3351.4020,S,15112.9180,W,0,00,,,M,,M,,*49",
     R"({"format": "nmea-gga", "lat": -33.8567, "lon": -151.2153, "valid": false, "checksum_ok": true, "time_valid": false})"},
    {"constructed GPRMC without $ or checksum", "pos GPRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A ok",
     R"({"format": "nmea-rmc", "lat": 52.136087, "lon": 11.537557, "valid": true, "time": "2007-03-04 05:20:50"})"},
    {"constructed GNRMC talker", "$GNRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A",
     R"({"format": "nmea-rmc", "lat": 52.136087, "lon": 11.537557, "valid": true})"},
    {"constructed WHERE# south/west", "Lat:S33.856700,Lon:W151.215300,Course:0.00,Speed:12.5Km/h,DateTime:2024-01-02 03:04:05",
     R"({"format": "gt06-where", "lat": -33.8567, "lon": -151.2153, "speed_kmh": 12.5, "course": 0, "time": "2024-01-02 03:04:05"})"},
    {"constructed WHERE# in <> wrapper", "<Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28>",
     R"({"format": "gt06-where", "lat": 22.571285, "lon": 113.877115, "time": "2010-11-23 22:28"})"},
    {"constructed URL %2C south/west", "http://maps.google.com/maps?q=S33.8567%2CW151.2153",
     R"({"format": "map-link", "lat": -33.8567, "lon": -151.2153})"},
    {"constructed Google place link", "see https://www.google.com/maps/place/-33.856700,151.215300 now",
     R"({"format": "map-link", "lat": -33.8567, "lon": 151.2153})"},
    {"constructed ll= link", "https://maps.google.com/?ll=52.520000,13.405000&z=15",
     R"({"format": "map-link", "lat": 52.52, "lon": 13.405})"},
    {"constructed OSM mlat/mlon link", "https://www.openstreetmap.org/?mlat=52.52000&mlon=-13.40500#map=16/52.52/-13.405",
     R"({"format": "map-link", "lat": 52.52, "lon": -13.405})"},
    {"constructed hemisphere prefix", "Position N52.51234 E13.40567 ok",
     R"({"format": "hemisphere-pair", "lat": 52.51234, "lon": 13.40567})"},
    {"constructed hemisphere suffix south/west", "Boat at 33.85670S, 151.21530W drifting",
     R"({"format": "hemisphere-pair", "lat": -33.8567, "lon": -151.2153})"},
    {"constructed labelled pair", "latitude=52.51234 longitude=-13.40567",
     R"({"format": "labelled-pair", "lat": 52.51234, "lon": -13.40567})"},
    {"constructed bare pair", "I'm at 52.51234, 13.40567 now",
     R"({"format": "decimal-pair", "lat": 52.51234, "lon": 13.40567})"},
    {"constructed bare pair negative", "Meet me at -33.85670,-151.21530 tomorrow",
     R"({"format": "decimal-pair", "lat": -33.8567, "lon": -151.2153})"},
    {"constructed NMEA-style pair", "POS 5230.7404,N,01324.3402,W",
     R"({"format": "nmea-pair", "lat": 52.51234, "lon": -13.40567})"},
    {"constructed Xexun SOS south", "lat: -33.856700 long: 151.215300 speed: 0.0 02/01/24 03:04 help me imei:359587011016261",
     R"({"format": "xexun", "lat": -33.8567, "lon": 151.2153, "time": "2024-01-02 03:04", "note": "SOS"})"},
    {"constructed Midland LAST POS south/west", "GEO,ID:BOAT,LAST POS:33g51.4020S,151g12.9180W,ALT:0005m,24/01/02,03:04",
     R"({"format": "midland-geo", "lat": -33.8567, "lon": -151.2153, "alt_m": 5, "time": "2024-01-02 03:04", "note": "last known fix"})"},
    {"constructed Globalsat not fixed", "Position Report: 2024/1/2 3:04:05 -33.856700,-151.215300 GPS not fixed",
     R"({"format": "globalsat-tr101", "lat": -33.8567, "lon": -151.2153, "valid": false, "time": "2024-01-02 03:04:05"})"},
    {"constructed V-Sun Fix V", "Lat: -33.85670\nLong: -151.21530\nSpeed: 1.50KM/H\nDirection: 90.00\nDate: 2024-01-02\nTime: 03:04:05\nFix: V",
     R"({"format": "vsun-tk205", "lat": -33.8567, "lon": -151.2153, "valid": false, "course": 90, "speed_kmh": 1.5})"},
    {"constructed Coban link GPS:V", "http://maps.google.cn/maps?q=S33.85670%2cW151.21530 ID:9171072755 ACC:ON GPS:V Speed:0.00KM/H 24-01-02 03:04:05",
     R"({"format": "coban-link", "lat": -33.8567, "lon": -151.2153, "valid": false, "time": "2024-01-02 03:04:05"})"},
    {"constructed unicode around", "Привет 👋 мой трекер: Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28 — 谢谢",
     R"({"format": "gt06-where", "lat": 22.571285, "lon": 113.877115, "time": "2010-11-23 22:28"})"},
    {"constructed position inside longer text", "Hi Anna, the car is here: $GPRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A*6A see you at 5!",
     R"({"format": "nmea-rmc", "lat": 52.136087, "lon": 11.537557, "checksum_ok": true})"},
    {"constructed WHERE# line plus URL of the same point (merged)",
     "Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28 http://maps.google.com/maps?q=N22.571285,E113.877115",
     R"({"format": "gt06-where", "lat": 22.571285, "lon": 113.877115, "course": 42.2})"},
    {"constructed link then Lat/Lon of the same point (merged, time taken over)",
     "http://maps.google.com/maps?q=22.571285,113.877115\nLat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28",
     R"({"format": "gt06-where", "lat": 22.571285, "lon": 113.877115, "time": "2010-11-23 22:28"})"},
};

// Texts without a position: nothing may be returned. Label, text.
const Sample kNegatives[] = {
    {"phone numbers", "Call me at +49 170 1234567 or 0049-30-12345678, fax 030/1234.5678", nullptr},
    {"prices", "Total 52.30 EUR, 13.45 USD", nullptr},
    {"date and time as numbers", "Meeting 12.05.2024 at 10.30, room 3.14", nullptr},
    {"version strings", "Firmware V1.2.3.4 build 2024.05.12 (release 10.0.19041.1234)", nullptr},
    {"IMEI and IMSI", "IMEI:359587011016261 IMSI:262011234567890 ICCID 89882390000097302650", nullptr},
    {"ordinary chat", "Hi, are we still on for dinner tonight? Let me know :) Lat night was fun. Long day!", nullptr},
    {"GT06 no fix yet (commands.md)", "NO DATA!", nullptr},
    {"GT06 STATUS# reply (commands.md, traccar#1730)",
     "Battery:4.13V,NORMAL; GPRS:Link Down; GSM Signal Level:Strong; GPS:Successful positioning, SVS Used in fix:11(11), GPS Signal Level:34,33,30,28; ACC:OFF; Defense:OFF", nullptr},
    {"GT06 STATUS# newer firmware (commands.md)", "Battery:5.56V,NORMAL; GPRS*Link Up GSM Signal Level:Strong; GPS:OFF;   LOCK:OFF; BT MAC:B4A828044462;", nullptr},
    {"GT06 parameter dump with 0.000000,0.000000 fence (commands.md)",
     "ALM1=C5;ALM2=CC;ALM3=5C;STA1=C0;DYD=01;SOS=0132883700,,;CENTER=0132883700;FENCE=Fence,OFF,0,0.000000,0.000000,300,IN or OUT,1;", nullptr},
    {"XM GT08B version reply (commands.md, traccar#2019)",
     "XM_GT08B_SW_3.0 2016/03/22 19:30 ID:8160813069 IP:120.076.079.192 8185 BAT:6 APN:CMNET GPS:A-11-09 GSM:25", nullptr},
    {"command replies", "Cut off the fuel supply: Success! Command error! FORMAT WRONG! password ok", nullptr},
    {"GPRMC status V without coordinates", "$GPRMC,052050.000,V,,,,,,,040307,,,N*4F", nullptr},
    {"short link without coordinates", "Here: http://goo.gl/maps/AbCdEf123 and https://maps.app.goo.gl/xyz", nullptr},
    {"map link with a place name", "http://maps.google.com/maps?q=Berlin+Alexanderplatz", nullptr},
    {"WHERE# out of range", "Lat:N95.123456,Lon:E200.123456,Course:0.00,Speed:0.0000,DateTime:10-11-23 22:28", nullptr},
    {"Xexun latitude out of range", "lat: 123.456789 long: 45.123456 speed: 0.0", nullptr},
    {"GPS;lat;lon out of range", "GPS;91.5;181.5", nullptr},
    {"link out of range", "http://maps.google.com/maps?q=-91.000000,10.000000", nullptr},
    {"bare pair out of range", "values 95.12345, 200.12345 measured", nullptr},
    {"NMEA minutes >= 60", "$GPRMC,052050.000,A,5268.1652,N,01132.2534,E,0.0,0.0,040307,,,A", nullptr},
    {"0/0 means no fix", "Lat:N0.000000,Lon:E0.000000,Course:0.00,Speed:0.0000,DateTime:10-11-23 22:28", nullptr},
    {"SPT100 shape with impossible time stamp", "1321947318,20071315185638,11.537557,52.136087,0,110,0,6,0", nullptr},
    {"empty", "", nullptr},
    {"whitespace", " \n\t ", nullptr},
};

// Parses "2007-03-04 05:20:50 ...", "10-11-23 22:28" (YY-MM-DD) or "05:17:32 UTC (no date)".
bool expectedTime(const QString &s, QDateTime *dt, QTime *timeOnly) {
    static const QRegularExpression full(QStringLiteral(R"(^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)(?::(\d\d))?)"));
    static const QRegularExpression shortYear(QStringLiteral(R"(^(\d\d)-(\d\d)-(\d\d) (\d\d):(\d\d)(?::(\d\d))?$)"));
    static const QRegularExpression noDate(QStringLiteral(R"(^(\d\d):(\d\d):(\d\d) UTC \(no date\)$)"));
    QRegularExpressionMatch m = full.match(s);
    int yearAdd = 0;
    if (!m.hasMatch()) {
        m = shortYear.match(s);
        yearAdd = 2000;
    }
    if (m.hasMatch()) {
        *dt = QDateTime(QDate(m.captured(1).toInt() + yearAdd, m.captured(2).toInt(), m.captured(3).toInt()),
                        QTime(m.captured(4).toInt(), m.captured(5).toInt(), m.captured(6).toInt()), QTimeZone::UTC);
        return dt->isValid();
    }
    m = noDate.match(s);
    if (m.hasMatch()) {
        *timeOnly = QTime(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt());
        return true;
    }
    return false;
}

// Checks one result against expectations. Keys: lat, lon, speed_kmh, speed (no unit given:
// km/h), course (number, or "-1" = unknown), alt_m, sats, time, time_valid, valid,
// checksum_ok, fix ("GPS Fixed"), fix_quality, kind / name / imei / note / note2 (text the
// note must contain), format. Unknown keys fail, so no expectation is silently skipped.
void checkExpectations(const SmsPosition &r, const QJsonObject &e) {
    const Position &p = r.position;
    QCOMPARE(p.source, PositionSource::Sms);
    QVERIFY(p.hasCoordinates);
    for (auto it = e.begin(); it != e.end(); ++it) {
        const QString k = it.key();
        const QJsonValue v = it.value();
        const auto near = [&](std::optional<double> got, double tol) {
            QVERIFY2(got.has_value(), qPrintable(k + QStringLiteral(" missing")));
            QVERIFY2(std::abs(*got - v.toDouble()) <= tol,
                     qPrintable(QStringLiteral("%1: got %2, expected %3").arg(k).arg(*got, 0, 'f', 7).arg(v.toDouble(), 0, 'f', 7)));
        };
        if (k == u"lat") near(p.latitude, 1e-5);
        else if (k == u"lon") near(p.longitude, 1e-5);
        else if (k == u"speed_kmh" || k == u"speed") near(p.speedKmh, 0.01);
        else if (k == u"course") {
            if (v.isString()) {
                QCOMPARE(v.toString(), QStringLiteral("-1"));
                QVERIFY2(!p.course, "course -1 means unknown");
            } else
                near(p.course, 0.01);
        } else if (k == u"alt_m") near(p.altitude, 0.01);
        else if (k == u"sats") {
            QVERIFY(p.satellites.has_value());
            QCOMPARE(*p.satellites, v.toInt());
        } else if (k == u"time") {
            QDateTime dt;
            QTime tod;
            QVERIFY2(expectedTime(v.toString(), &dt, &tod), qPrintable(QStringLiteral("unreadable expected time ") + v.toString()));
            if (dt.isValid()) {
                QVERIFY2(p.timeValid, qPrintable(r.note));
                QCOMPARE(p.time.toUTC(), dt);
                QCOMPARE(r.timeSource, TimeSource::Text);
            } else {   // time of day only, parsed without a receive time
                QVERIFY(!p.timeValid);
                QCOMPARE(r.timeSource, TimeSource::None);
                QVERIFY2(r.note.contains(tod.toString(u"HH:mm:ss")), qPrintable(r.note));
            }
        } else if (k == u"time_valid") QCOMPARE(p.timeValid, v.toBool());
        else if (k == u"valid") QCOMPARE(p.valid, v.toBool());
        else if (k == u"checksum_ok") {
            QVERIFY(r.checksumOk.has_value());
            QCOMPARE(*r.checksumOk, v.toBool());
        } else if (k == u"fix") {
            QCOMPARE(p.valid, v.toString() == u"GPS Fixed");
            QVERIFY2(r.note.contains(v.toString()), qPrintable(r.note));
        } else if (k == u"fix_quality") {
            QCOMPARE(p.valid, v.toInt() > 0);
            QVERIFY2(r.note.contains(QStringLiteral("fix quality %1").arg(v.toInt())), qPrintable(r.note));
        } else if (k == u"kind" || k == u"name" || k == u"imei" || k == u"note" || k == u"note2") {
            QVERIFY2(r.note.contains(v.toString()), qPrintable(QStringLiteral("note '%1' lacks '%2'").arg(r.note, v.toString())));
        } else if (k == u"format") QCOMPARE(r.format, v.toString());
        else
            QFAIL(qPrintable(QStringLiteral("unknown expectation key ") + k));
    }
}

QJsonObject json(const QString &s) {
    QJsonParseError err;
    const QJsonDocument d = QJsonDocument::fromJson(s.toUtf8(), &err);
    if (err.error != QJsonParseError::NoError)
        qWarning("bad expectation JSON: %s (%s)", qPrintable(s), qPrintable(err.errorString()));
    return d.object();
}

// Every result: in range, span inside the text, format known.
void checkInvariants(const QString &text, const QList<SmsPosition> &found) {
    const QSet<QString> ids = [] {
        QSet<QString> s;
        for (const FormatInfo &f : formats())
            s.insert(f.id);
        return s;
    }();
    for (const SmsPosition &r : found) {
        QVERIFY(std::abs(r.position.latitude) <= 90);
        QVERIFY(std::abs(r.position.longitude) <= 180);
        QVERIFY(r.offset >= 0);
        QVERIFY(r.length > 0);
        QVERIFY(r.offset + r.length <= text.size());
        QVERIFY2(ids.contains(r.format), qPrintable(r.format));
        QCOMPARE(r.position.source, PositionSource::Sms);
    }
}

} // namespace

class TestSmsText : public QObject {
    Q_OBJECT

private slots:
    void vectorsPresent();
    void vectors_data();
    void vectors();
    void vectorsWithReceiveTime_data() { vectors_data(); }
    void vectorsWithReceiveTime();
    void seedSamples_data();
    void seedSamples();
    void constructed_data();
    void constructed();
    void negatives_data();
    void negatives();
    void timeOfDayTakesNearestReceiveDate();
    void deviceTimeZoneOffset();
    void utcFormatsIgnoreDeviceZone();
    void rejectedRecordsAreReported();
    void twoPositionsInOneMessage();
    void samePointTwiceAtDifferentTimesIsKept();
    void seedMultiFormatMessage();
    void everyFormatHasASample();
    void largeRandomInputIsLinear();
    void fuzzRegressions_data();
    void fuzzRegressions();
    void jsonForm();
    void concurrentUse();
};

void TestSmsText::vectorsPresent() {
    QCOMPARE(loadVectors().size(), 25);
}

void TestSmsText::vectors_data() {
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    for (const Vector &v : loadVectors())
        QTest::newRow(qPrintable(v.id + QLatin1Char(' ') + v.format)) << v.id << v.format << v.text << v.expected;
}

void TestSmsText::vectors() {
    QFETCH(QString, id);
    QFETCH(QString, format);
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const QList<SmsPosition> found = parsePositions(text);
    checkInvariants(text, found);
    QCOMPARE(found.size(), 1);
    const QString wantFormat = formatIdForVector(id, format);
    QVERIFY2(!wantFormat.isEmpty(), qPrintable(QStringLiteral("no format id mapped for '%1'").arg(format)));
    QCOMPARE(found[0].format, wantFormat);
    checkExpectations(found[0], json(expected));
    if (QTest::currentTestFailed())
        return;
    if (const QString extra = formatsMdExtra(id); !extra.isEmpty())
        checkExpectations(found[0], json(extra));
}

// With a receive time: text times stay as they are; time-of-day-only texts get the receive
// date; texts without a time take the receive time.
void TestSmsText::vectorsWithReceiveTime() {
    QFETCH(QString, id);
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const QDateTime received(QDate(2007, 3, 4), QTime(10, 0, 0), QTimeZone::UTC);
    const QList<SmsPosition> plain = parsePositions(text);
    const QList<SmsPosition> found = parsePositions(text, received);
    QCOMPARE(found.size(), 1);
    QCOMPARE(plain.size(), 1);
    const SmsPosition &r = found[0];
    QVERIFY(r.position.timeValid);
    switch (plain[0].timeSource) {
    case TimeSource::Text:
        QCOMPARE(r.timeSource, TimeSource::Text);
        QCOMPARE(r.position.time, plain[0].position.time);
        break;
    case TimeSource::None:
        if (expected.contains(QLatin1String("(no date)"))) {
            QCOMPARE(r.timeSource, TimeSource::TextTimeOfDay);
            QCOMPARE(r.position.time.date(), received.date());
        } else {
            QCOMPARE(r.timeSource, TimeSource::Received);
            QCOMPARE(r.position.time, received);
        }
        break;
    default:
        QFAIL("unexpected time source without a receive time");
    }
}

void TestSmsText::seedSamples_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    for (const Sample &s : kSeedSamples)
        QTest::newRow(s.label) << QString::fromUtf8(s.text) << QString::fromUtf8(s.expected);
}

void TestSmsText::seedSamples() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const QList<SmsPosition> found = parsePositions(text);
    checkInvariants(text, found);
    QCOMPARE(found.size(), 1);
    checkExpectations(found[0], json(expected));
}

void TestSmsText::constructed_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    for (const Sample &s : kConstructed)
        QTest::newRow(s.label) << QString::fromUtf8(s.text) << QString::fromUtf8(s.expected);
}

void TestSmsText::constructed() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const QList<SmsPosition> found = parsePositions(text);
    checkInvariants(text, found);
    QCOMPARE(found.size(), 1);
    checkExpectations(found[0], json(expected));
    // The span is the record: it holds the latitude's digits.
    const QString span = text.mid(found[0].offset, found[0].length);
    const QString latDigits = QString::number(std::abs(found[0].position.latitude), 'f', 6).left(2);
    QVERIFY2(span.contains(latDigits), qPrintable(span));
}

void TestSmsText::negatives_data() {
    QTest::addColumn<QString>("text");
    for (const Sample &s : kNegatives)
        QTest::newRow(s.label) << QString::fromUtf8(s.text);
}

void TestSmsText::negatives() {
    QFETCH(QString, text);
    const QList<SmsPosition> found = parsePositions(text, QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5), QTimeZone::UTC));
    for (const SmsPosition &r : found)
        qWarning("unexpected %s %f,%f at %d", qPrintable(r.format), r.position.latitude, r.position.longitude, r.offset);
    QCOMPARE(found.size(), 0);
}

void TestSmsText::timeOfDayTakesNearestReceiveDate() {
    // S01 (GGA 05:17:32 UTC, no date): received just after midnight the next day -> previous day.
    const QString gga = QStringLiteral("$GPGGA,051732.000,5210.6402,N,01135.0183,E,1,10,0.9,55.1,M,46.6,M,,0000*69");
    ParseOptions o;
    o.received = QDateTime(QDate(2007, 3, 4), QTime(5, 20, 0), QTimeZone::UTC);
    QList<SmsPosition> r = parsePositions(gga, o);
    QCOMPARE(r.size(), 1);
    QCOMPARE(r[0].timeSource, TimeSource::TextTimeOfDay);
    QCOMPARE(r[0].position.time, QDateTime(QDate(2007, 3, 4), QTime(5, 17, 32), QTimeZone::UTC));
    // A 23:59:59 fix received at 00:00:30 belongs to the day before.
    const QString late = QStringLiteral("$GPGGA,235959.000,5210.6402,N,01135.0183,E,1,10,0.9,55.1,M,46.6,M,,0000");
    o.received = QDateTime(QDate(2024, 1, 2), QTime(0, 0, 30), QTimeZone::UTC);
    r = parsePositions(late, o);
    QCOMPARE(r.size(), 1);
    QCOMPARE(r[0].position.time, QDateTime(QDate(2024, 1, 1), QTime(23, 59, 59), QTimeZone::UTC));
    QVERIFY(!r[0].checksumOk.has_value());   // no *hh: nothing to check
    // Received time in another zone is converted first.
    o.received = QDateTime(QDate(2024, 1, 2), QTime(1, 0, 30), QTimeZone::fromSecondsAheadOfUtc(3600));
    r = parsePositions(late, o);
    QCOMPARE(r[0].position.time, QDateTime(QDate(2024, 1, 1), QTime(23, 59, 59), QTimeZone::UTC));
}

void TestSmsText::deviceTimeZoneOffset() {
    // JM01 WHERE# reply (S18): DateTime in the device's zone. GMT,E,8# -> UTC = local - 8 h.
    const QString s18 = QStringLiteral("Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28");
    ParseOptions o;
    o.deviceUtcOffsetMinutes = 8 * 60;
    const QList<SmsPosition> r = parsePositions(s18, o);
    QCOMPARE(r.size(), 1);
    QVERIFY(r[0].deviceLocalTime);
    QCOMPARE(r[0].position.time, QDateTime(QDate(2010, 11, 23), QTime(14, 28), QTimeZone::UTC));
}

void TestSmsText::utcFormatsIgnoreDeviceZone() {
    ParseOptions o;
    o.deviceUtcOffsetMinutes = 8 * 60;
    const QList<SmsPosition> r =
        parsePositions(QStringLiteral("$GPRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A*6A"), o);
    QCOMPARE(r.size(), 1);
    QVERIFY(!r[0].deviceLocalTime);
    QCOMPARE(r[0].position.time, QDateTime(QDate(2007, 3, 4), QTime(5, 20, 50), QTimeZone::UTC));
}

void TestSmsText::rejectedRecordsAreReported() {
    QStringList why;
    const QList<SmsPosition> r =
        parsePositions(QStringLiteral("Lat:N95.123456,Lon:E20.123456,Course:0.00,Speed:0.0000,DateTime:10-11-23 22:28"), ParseOptions{}, &why);
    QCOMPARE(r.size(), 0);
    QCOMPARE(why.size(), 1);
    QVERIFY2(why[0].startsWith(QLatin1String("gt06-where at 0: latitude 95.1235 out of range")), qPrintable(why[0]));
}

void TestSmsText::twoPositionsInOneMessage() {
    // Constructed: an RMC sentence and a Xexun line (two different points) in one SMS.
    const QString text = QStringLiteral("Car: $GPRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A*6A\n"
                                        "Bike: lat: -33.856700 long: -151.215300 speed: 5.0 02/01/24 03:04");
    const QList<SmsPosition> r = parsePositions(text);
    checkInvariants(text, r);
    QCOMPARE(r.size(), 2);
    QCOMPARE(r[0].format, QStringLiteral("nmea-rmc"));
    QCOMPARE(r[1].format, QStringLiteral("xexun"));
    QVERIFY(r[0].offset < r[1].offset);
    QCOMPARE(text.mid(r[0].offset, 6), QStringLiteral("$GPRMC"));
    QCOMPARE(text.mid(r[1].offset, 4), QStringLiteral("lat:"));
    QVERIFY(qFuzzyCompare(r[1].position.latitude, -33.8567));
    QVERIFY(qFuzzyCompare(r[1].position.longitude, -151.2153));
}

void TestSmsText::samePointTwiceAtDifferentTimesIsKept() {
    // Constructed: the same place reported at two different times is two positions.
    const QString text = QStringLiteral("Lat:N22.571285,Lon:E113.877115,DateTime:10-11-23 22:28\n"
                                        "Lat:N22.571285,Lon:E113.877115,DateTime:10-11-23 22:38");
    const QList<SmsPosition> r = parsePositions(text);
    QCOMPARE(r.size(), 2);
    QCOMPARE(r[0].position.time.secsTo(r[1].position.time), 600);
    // The GPGGA sample (05:17:32, no date) and the seed's Xexun line (03/03/08 14:37) are the
    // same point at different times: two positions, and the GGA does not take the Xexun time.
    const QString both = QStringLiteral("$GPGGA,051732.000,5210.6402,N,01135.0183,E,1,10,0.9,55.1,M,46.6,M,,0000*69\n"
                                        "lat: 52.177337 long: 011.583638 speed: 020.0 03/03/08 14:37");
    const QList<SmsPosition> r2 = parsePositions(both);
    QCOMPARE(r2.size(), 2);
    QCOMPARE(r2[0].format, QStringLiteral("nmea-gga"));
    QVERIFY(!r2[0].position.timeValid);
    QCOMPARE(r2[1].format, QStringLiteral("xexun"));
    // Without a time the Xexun line is the same position as the GGA: merged, speed taken over.
    const QList<SmsPosition> r3 = parsePositions(QStringLiteral(
        "$GPGGA,051732.000,5210.6402,N,01135.0183,E,1,10,0.9,55.1,M,46.6,M,,0000*69\nlat: 52.177337 long: 011.583638 speed: 000.0"));
    QCOMPARE(r3.size(), 1);
    QCOMPARE(r3[0].format, QStringLiteral("nmea-gga"));
    QVERIFY(r3[0].position.speedKmh.has_value());
}

void TestSmsText::seedMultiFormatMessage() {
    // The Trackbox page: "you can send more than one position in different formats in a
    // message". Its GPGGA, Benefon LOC and Navideo LOC samples, joined into one message.
    const QString text = QStringLiteral(
        "$GPGGA,051732.000,5210.6402,N,01135.0183,E,1,10,0.9,55.1,M,46.6,M,,0000*69 "
        "!LOC_01/01_norm_099 _gps_1_N52.10.18,3_E011.33.16,9_30.05.2006_16:36:01_010km/h_123deg "
        "Navideo LOC LAT:52.192905,LON:13.463279");
    const QList<SmsPosition> r = parsePositions(text);
    checkInvariants(text, r);
    QCOMPARE(r.size(), 3);
    QCOMPARE(r[0].format, QStringLiteral("nmea-gga"));
    QCOMPARE(r[1].format, QStringLiteral("benefon"));
    QCOMPARE(r[2].format, QStringLiteral("navideo-loc"));
}

void TestSmsText::everyFormatHasASample() {
    QSet<QString> seen;
    for (const Vector &v : loadVectors())
        for (const SmsPosition &r : parsePositions(v.text))
            seen.insert(r.format);
    for (const Sample &s : kSeedSamples)
        for (const SmsPosition &r : parsePositions(QString::fromUtf8(s.text)))
            seen.insert(r.format);
    for (const Sample &s : kConstructed)
        for (const SmsPosition &r : parsePositions(QString::fromUtf8(s.text)))
            seen.insert(r.format);
    for (const FormatInfo &f : formats()) {
        QVERIFY2(seen.contains(f.id), qPrintable(QStringLiteral("format %1 (%2) never matched a sample").arg(f.id, f.name)));
        QVERIFY(!f.name.isEmpty());
        QVERIFY(!f.evidence.isEmpty());
        QCOMPARE(formatName(f.id), f.name);
    }
    QCOMPARE(formatName(QStringLiteral("no-such-format")), QString());
}

// 100 kB of random digits (and of digits mixed with the separators the patterns look for)
// must be handled without pattern backtracking blow-up or a PCRE error (Qt reports those as
// warnings). The time bound only catches a hang; typical run time is printed.
void TestSmsText::largeRandomInputIsLinear() {
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    QRandomGenerator rng(20240102);
    const QString alphabets[] = {
        QStringLiteral("0123456789"),
        QStringLiteral("0123456789.,;:-+ NSEW/gm$*?!<>=&"),
    };
    for (const QString &alphabet : alphabets) {
        QString text;
        text.reserve(100 * 1024);
        for (int i = 0; i < 100 * 1024; ++i)
            text += alphabet[int(rng.bounded(alphabet.size()))];
        QElapsedTimer t;
        t.start();
        const QList<SmsPosition> r = parsePositions(text);
        const qint64 ms = t.elapsed();
        qInfo("100 kB over '%s': %d positions in %lld ms", qPrintable(alphabet), int(r.size()), ms);
        checkInvariants(text, r);
        if (alphabet.size() == 10)
            QCOMPARE(r.size(), 0);
        QVERIFY2(ms < 10000, "parsing 100 kB took more than 10 s: pattern backtracking?");
    }
    // Long runs that start a pattern and never finish it.
    const QString stalls[] = {
        QStringLiteral("lat:") + QString(50000, QLatin1Char('1')),
        QStringLiteral("$GPRMC,") + QString(50000, QLatin1Char(',')),
        QString(20000, QLatin1Char('1')) + QStringLiteral(".") + QString(20000, QLatin1Char('2')) + QStringLiteral(","),
        QStringLiteral("http://maps.google.com/maps?q=") + QString(50000, QLatin1Char('9')),
        QStringLiteral("!LOC_") + QString(50000, QLatin1Char('_')),
        QString(30000, QLatin1Char(' ')) + QStringLiteral("Position Report:"),
        QStringLiteral("lat ").repeated(20000),
    };
    for (const QString &s : stalls) {
        QElapsedTimer t;
        t.start();
        const QList<SmsPosition> r = parsePositions(s);
        QCOMPARE(r.size(), 0);
        QVERIFY2(t.elapsed() < 10000, qPrintable(s.left(20)));
    }
}

// Bytes that are not UTF-8 and control characters, as the fuzzer feeds them (Latin-1 decoded).
// fuzz_smstext has found no crashing input so far; any it finds is added here as a row with
// what the parser must return.
void TestSmsText::fuzzRegressions_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("count");
    // Latin-1 bytes that are not UTF-8 around a valid sample.
    QTest::newRow("latin-1 around GT06 reply") << QByteArray("\xe4\xf6\xfc Lat:N22.571285,Lon:E113.877115 \xff") << 1;
    QTest::newRow("NUL bytes") << QByteArray("Lat:N22.571285,\0Lon:E113.877115", 31) << 0;
}

void TestSmsText::fuzzRegressions() {
    QFETCH(QByteArray, input);
    QFETCH(int, count);
    const QString text = QString::fromLatin1(input);
    const QList<SmsPosition> r = parsePositions(text);
    checkInvariants(text, r);
    QCOMPARE(int(r.size()), count);
}

void TestSmsText::jsonForm() {
    const QList<SmsPosition> r =
        parsePositions(QStringLiteral("$GPRMC,052050.000,A,5208.1652,N,01132.2534,E,109.52,200.50,040307,,,A*6A"));
    QCOMPARE(r.size(), 1);
    const QJsonObject o = smsPositionToJson(r[0]);
    QCOMPARE(o.value(QLatin1String("format")).toString(), QStringLiteral("nmea-rmc"));
    QCOMPARE(o.value(QLatin1String("format_name")).toString(), QStringLiteral("NMEA $GPRMC"));
    QCOMPARE(o.value(QLatin1String("checksum_ok")).toBool(), true);
    QCOMPARE(o.value(QLatin1String("time")).toString(), QStringLiteral("2007-03-04T05:20:50Z"));
    QCOMPARE(o.value(QLatin1String("time_source")).toString(), QStringLiteral("text"));
    QCOMPARE(o.value(QLatin1String("source")).toString(), QStringLiteral("sms"));
    QCOMPARE(o.value(QLatin1String("offset")).toInt(), 0);
    QCOMPARE(o.value(QLatin1String("length")).toInt(), 72);
}

// The modem and the GPRS server may parse texts on different threads at the same time.
void TestSmsText::concurrentUse() {
    QStringList texts;
    for (const Vector &v : loadVectors())
        texts << v.text;
    for (const Sample &s : kSeedSamples)
        texts << QString::fromUtf8(s.text);
    const QString all = texts.join(QLatin1Char('\n'));
    const QList<SmsPosition> reference = parsePositions(all);
    QVERIFY2(reference.size() >= 30, qPrintable(QString::number(reference.size())));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                const QList<SmsPosition> r = parsePositions(all);
                if (r.size() != reference.size())
                    ++mismatches[t];
                else
                    for (int k = 0; k < r.size(); ++k)
                        if (r[k].format != reference[k].format || r[k].offset != reference[k].offset
                            || r[k].position.latitude != reference[k].position.latitude)
                            ++mismatches[t];
            }
        });
    for (std::thread &th : threads)
        th.join();
    for (int m : mismatches)
        QCOMPARE(m, 0);
}

QTEST_GUILESS_MAIN(TestSmsText)
#include "tst_smstext.moc"
