// The device list model: what the Name column shows.
#include "models/devicelistmodel.h"

#include <QtTest>

using td::DeviceListModel;

class TestDeviceList : public QObject {
    Q_OBJECT
private slots:
    void unnamedDevicesAreToldApart();
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

QTEST_GUILESS_MAIN(TestDeviceList)
#include "tst_devicelist.moc"
