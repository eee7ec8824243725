// Export dialog: devices, time range, format (GPX/KML/GeoJSON/CSV, or raw frames as
// pcapng), options (non-GPS fixes, split on gaps) and the target file; the export runs on
// a worker thread with a progress bar and Cancel (ExportRunner), and a failed or
// cancelled export leaves no half-written file.
#pragma once

#include "export/exportrunner.h"
#include "models/devicelistmodel.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace td::ui {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(const QString &databasePath, const DeviceListModel *devices, QWidget *parent = nullptr);

    // Starts the export with the current fields; false (with the message shown) when a
    // field is wrong.
    bool startExport();
    bool isRunning() const { return m_runner && m_runner->isRunning(); }
    exporter::ExportResult lastResult() const { return m_result; }
    QString statusText() const;

    QComboBox *formatBox() const { return m_format; }
    QLineEdit *fileEdit() const { return m_file; }
    QListWidget *deviceList() const { return m_devices; }
    QDateTimeEdit *fromEdit() const { return m_from; }
    QDateTimeEdit *toEdit() const { return m_to; }
    QCheckBox *allFixesBox() const { return m_allFixes; }

signals:
    void exportFinished(const td::exporter::ExportResult &result);

protected:
    void reject() override;   // cancels a running export first

private:
    void onFinished(const exporter::ExportResult &r);
    void setBusy(bool busy);

    QString m_dbPath;
    QListWidget *m_devices;
    QDateTimeEdit *m_from, *m_to;
    QComboBox *m_format;
    QCheckBox *m_allFixes;
    QSpinBox *m_splitGap;
    QLineEdit *m_file;
    QProgressBar *m_progress;
    QLabel *m_status;
    QPushButton *m_start, *m_cancel;
    exporter::ExportRunner *m_runner = nullptr;
    exporter::ExportResult m_result;
};

} // namespace td::ui
