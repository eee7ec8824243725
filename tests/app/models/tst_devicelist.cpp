// The device list model: what the Name column shows.
#include "models/devicelistmodel.h"

#include <QSignalSpy>
#include <QtTest>

using td::DeviceListModel;

class TestDeviceList : public QObject {
    Q_OBJECT
private slots:
    void unnamedDevicesAreToldApart();
    void renamingChecksTheName();
    void futureTimesAreNotJustNow();
};

// Three new devices showed three identical "New device" rows; the id tells them apart, as on
// the map. A name replaces it; editing starts from the name (empty for a new device).
void TestDeviceList::unnamedDevicesAreToldApart() {
    DeviceListModel m;
    QList<td::DeviceStatus> list;
    for (int i = 0; i < 3; ++i) {
        td::DeviceStatus d;
        d.device.id = i + 1;
        d.device.imei = QStringLiteral("35800000000001%1").arg(i);
        d.device.protocol = QStringLiteral("gt06");
        list << d;
    }
    list[2].device.name = QStringLiteral("Minou");
    m.setDevices(list);
    QCOMPARE(m.rowCount(), 3);
    QStringList names;
    for (int r = 0; r < 3; ++r)
        names << m.index(r, DeviceListModel::Name).data().toString();
    QVERIFY2(names.contains(QStringLiteral("New device 358000000000010")), qPrintable(names.join(QLatin1Char('|'))));
    QVERIFY2(names.contains(QStringLiteral("New device 358000000000011")), qPrintable(names.join(QLatin1Char('|'))));
    QVERIFY2(names.contains(QStringLiteral("Minou")), qPrintable(names.join(QLatin1Char('|'))));
    for (int r = 0; r < 3; ++r)
        if (m.index(r, DeviceListModel::Name).data().toString().startsWith(QLatin1String("New device")))
            QCOMPARE(m.index(r, DeviceListModel::Name).data(Qt::EditRole).toString(), QString());
}

// Renaming in the list takes what the device dialog takes (a 64-character name at most).
void TestDeviceList::renamingChecksTheName() {
    DeviceListModel m;
    td::DeviceStatus d;
    d.device.id = 1;
    d.device.imei = QStringLiteral("358000000000010");
    m.setDevices({d});
    QSignalSpy edited(&m, &DeviceListModel::deviceEdited);
    const QModelIndex name = m.index(0, DeviceListModel::Name);
    QVERIFY(!m.setData(name, QString(65, QLatin1Char('x'))));
    QVERIFY(edited.isEmpty());
    QVERIFY(m.setData(name, QStringLiteral("  Minou ")));
    QCOMPARE(edited.size(), 1);
    QCOMPARE(name.data().toString(), QStringLiteral("Minou"));
}

// A fix time ahead of the clock (device clock or time zone wrong) said "just now" for hours.
void TestDeviceList::futureTimesAreNotJustNow() {
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QCOMPARE(DeviceListModel::ageText(now.addSecs(-30), now), QStringLiteral("just now"));
    QCOMPARE(DeviceListModel::ageText(now.addSecs(30), now), QStringLiteral("just now"));   // clocks a little apart
    QVERIFY2(DeviceListModel::ageText(now.addSecs(2 * 3600), now).startsWith(QLatin1String("in the future")),
             qPrintable(DeviceListModel::ageText(now.addSecs(2 * 3600), now)));
}

QTEST_GUILESS_MAIN(TestDeviceList)
#include "tst_devicelist.moc"
