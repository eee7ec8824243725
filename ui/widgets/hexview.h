// Hex + ASCII byte view (Wireshark's "packet bytes" pane). Shows one byte array,
// highlights a range (the selected field) and a hover range, and reports clicks on a
// byte so the owner can select the innermost field at that offset.
#pragma once

#include <QAbstractScrollArea>
#include <QByteArray>

namespace td::ui {

class HexView : public QAbstractScrollArea {
    Q_OBJECT
public:
    explicit HexView(QWidget *parent = nullptr);

    void setData(const QByteArray &bytes);
    const QByteArray &data() const { return m_bytes; }
    void setHighlight(int offset, int length);      // selected field; length 0 = none
    void setHoverHighlight(int offset, int length); // hovered field
    int highlightOffset() const { return m_selOffset; }
    int highlightLength() const { return m_selLength; }
    // Byte offset under a viewport point, or -1.
    int offsetAt(const QPoint &viewportPos) const;
    QSize sizeHint() const override;

signals:
    void byteClicked(int offset);
    void byteHovered(int offset);   // -1 when leaving

protected:
    void paintEvent(QPaintEvent *) override;
    void mousePressEvent(QMouseEvent *) override;
    void mouseMoveEvent(QMouseEvent *) override;
    void leaveEvent(QEvent *) override;
    void resizeEvent(QResizeEvent *) override;

private:
    void updateScrollBars();
    int lineCount() const { return (int(m_bytes.size()) + 15) / 16; }
    int charWidth() const;
    int lineHeight() const;
    int hexColumnX(int col) const;
    int asciiColumnX(int col) const;

    QByteArray m_bytes;
    int m_selOffset = 0, m_selLength = 0;
    int m_hoverOffset = 0, m_hoverLength = 0;
};

} // namespace td::ui
