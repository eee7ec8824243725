#include "dialogs/exportdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace td::ui {

ExportDialog::ExportDialog(const QString &databasePath, const DeviceListModel *devices, QWidget *parent)
    : QDialog(parent), m_dbPath(databasePath) {
    setWindowTitle(tr("Export"));
    m_devices = new QListWidget(this);
    m_devices->setSelectionMode(QAbstractItemView::MultiSelection);
    m_devices->setToolTip(tr("Nothing selected: all devices"));
    for (int i = 0; devices && i < devices->rowCount(); ++i) {
        const store::Device &d = devices->deviceAt(i).device;
        auto *item = new QListWidgetItem(d.name.isEmpty() ? d.imei : QStringLiteral("%1 (%2)").arg(d.name, d.imei), m_devices);
        item->setData(Qt::UserRole, d.id);
    }
    const QDateTime now = QDateTime::currentDateTime();
    m_from = new QDateTimeEdit(QDateTime(now.date(), QTime(0, 0)), this);
    m_to = new QDateTimeEdit(now, this);
    for (QDateTimeEdit *e : {m_from, m_to}) {
        e->setCalendarPopup(true);
        e->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm"));
    }
    m_format = new QComboBox(this);
    for (const exporter::ExportFormat &f : exporter::exportFormats())
        m_format->addItem(f.name, f.id);
    m_allFixes = new QCheckBox(tr("Also cell-tower, Wi-Fi and SMS fixes (less precise)"), this);
    m_splitGap = new QSpinBox(this);
    m_splitGap->setRange(0, 24 * 60);
    m_splitGap->setValue(10);
    m_splitGap->setSuffix(tr(" min"));
    m_splitGap->setSpecialValueText(tr("never"));
    m_file = new QLineEdit(this);
    m_file->setObjectName(QStringLiteral("exportFile"));
    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export to"), m_file->text(), exporter::fileDialogFilter());
        if (!f.isEmpty())
            m_file->setText(f);
    });
    connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
        const exporter::ExportFormat *f = exporter::exportFormat(m_format->currentData().toString());
        if (!f) return;
        const bool frames = f->kind == exporter::ExportKind::Frames;
        m_allFixes->setEnabled(!frames);
        m_splitGap->setEnabled(!frames);
        QString file = m_file->text();
        if (file.isEmpty())
            file = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) + QStringLiteral("/trackerdesk-export");
        const QFileInfo fi(file);
        m_file->setText(fi.path() + QLatin1Char('/') + fi.completeBaseName() + QLatin1Char('.') + f->extension);
    });
    emit m_format->currentIndexChanged(0);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 0);
    m_progress->hide();
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("exportStatus"));
    m_status->setWordWrap(true);
    m_start = new QPushButton(tr("Export"), this);
    m_start->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    connect(m_start, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_cancel, &QPushButton::clicked, this, &ExportDialog::reject);

    auto *form = new QFormLayout;
    form->addRow(tr("Devices"), m_devices);
    form->addRow(tr("From"), m_from);
    form->addRow(tr("To"), m_to);
    form->addRow(tr("Format"), m_format);
    form->addRow(QString(), m_allFixes);
    form->addRow(tr("New segment after a gap of"), m_splitGap);
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browse);
    form->addRow(tr("File"), fileRow);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancel);
    auto *lay = new QVBoxLayout(this);
    lay->addLayout(form);
    lay->addWidget(m_progress);
    lay->addWidget(m_status);
    lay->addLayout(buttons);
}

QString ExportDialog::statusText() const { return m_status->text(); }

void ExportDialog::setBusy(bool busy) {
    m_start->setEnabled(!busy);
    m_progress->setVisible(busy);
    m_cancel->setText(busy ? tr("Cancel export") : tr("Close"));
}

bool ExportDialog::startExport() {
    const exporter::ExportFormat *format = exporter::exportFormat(m_format->currentData().toString());
    const QString target = m_file->text().trimmed();
    if (!format || target.isEmpty()) {
        m_status->setText(tr("Choose a format and a file."));
        return false;
    }
    if (m_from->dateTime() > m_to->dateTime()) {
        m_status->setText(tr("'From' is after 'To'."));
        return false;
    }
    QList<qint64> ids;
    for (QListWidgetItem *it : m_devices->selectedItems())
        ids << it->data(Qt::UserRole).toLongLong();
    exporter::ExportRunner::Work work;
    if (format->kind == exporter::ExportKind::Frames) {
        exporter::FrameExportRequest r;
        r.deviceIds = ids;
        r.from = m_from->dateTime().toUTC();
        r.to = m_to->dateTime().toUTC();
        work = exporter::ExportRunner::frameExportWork(m_dbPath, r, target);
    } else {
        exporter::TrackExportRequest r;
        r.formatId = format->id;
        r.deviceIds = ids;
        r.from = m_from->dateTime().toUTC();
        r.to = m_to->dateTime().toUTC();
        r.options.includeNetworkFixes = m_allFixes->isChecked();
        r.options.splitGapMinutes = m_splitGap->value();
        work = exporter::ExportRunner::trackExportWork(m_dbPath, r, target);
    }
    delete m_runner;
    m_runner = new exporter::ExportRunner(this);
    connect(m_runner, &exporter::ExportRunner::progress, this, [this](qint64 done, qint64 total) {
        if (total > 0) {
            m_progress->setRange(0, 1000);
            m_progress->setValue(int(done * 1000 / total));
        }
        m_status->setText(total > 0 ? tr("%1 of %2 rows").arg(done).arg(total) : tr("%1 rows").arg(done));
    });
    connect(m_runner, &exporter::ExportRunner::finished, this, &ExportDialog::onFinished);
    setBusy(true);
    m_status->setText(tr("Exporting…"));
    return m_runner->start(work);
}

void ExportDialog::onFinished(const exporter::ExportResult &r) {
    m_result = r;
    setBusy(false);
    if (r.cancelled)
        m_status->setText(tr("Cancelled: nothing was written."));
    else if (!r.ok)
        m_status->setText(QStringLiteral("<span style='color:#b03000'>%1</span>").arg(r.error.toHtmlEscaped()));
    else if (const exporter::ExportFormat *f = exporter::exportFormat(m_format->currentData().toString());
             (f && f->kind == exporter::ExportKind::Frames) || r.frames > 0 || r.packets > 0)   // also an empty capture
        m_status->setText(tr("Done: %1 frames in %2 connections written to %3.").arg(r.frames).arg(r.connections).arg(m_file->text()));
    else
        m_status->setText(tr("Done: %1 points in %2 track(s) written to %3.").arg(r.points).arg(r.tracks).arg(m_file->text()));
    emit exportFinished(r);
}

void ExportDialog::reject() {
    if (isRunning()) {
        m_runner->cancel();
        return;  // finished() reports the cancel; the dialog stays to show it
    }
    QDialog::reject();
}

} // namespace td::ui
