#pragma once
// A tiny loopback stand-in for the Hugging Face hub, for the download tests: serves
//   GET /api/models/<org>/<name>/tree/main?recursive=true   the JSON listing (optionally paged)
//   GET /<org>/<name>/resolve/main/<path>                   file bytes, honouring Range
// with switches for the ways the real hub and its CDN behave or misbehave. Every request's
// headers are recorded.

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QTcpServer>

class QTcpSocket;

namespace gd::test {

class LocalHubServer : public QObject {
    Q_OBJECT
public:
    struct Request {
        QByteArray method;
        QString path;  // decoded, without the query
        QByteArray query;
        QHash<QByteArray, QByteArray> headers;  // lower-case names
        QByteArray header(const QByteArray& name) const { return headers.value(name.toLower()); }
        bool isListing() const { return path.startsWith(QLatin1String("/api/models/")); }
        bool isFile() const { return !isListing(); }
    };

    struct File {
        QByteArray content;
        bool lfs = false;
    };

    // Behaviour switches; all off by default.
    struct Modes {
        int throttleBytes = 0;  // >0: send file bodies this many bytes per tick
        int tickMs = 5;
        bool redirect = false;  // resolve answers 302 to /cdn/… (like the hub sending big files to its CDN)
        QString redirectHost;   // host for the redirect target; empty: the same address
        bool ignoreRange = false;       // answer 200 with the whole file even when asked for a range
        QString corruptPath;            // serve this file with one byte flipped
        int fileStatus = 0;             // answer every file request with this status (401, 404, …)
        int treeStatus = 0;             // the same for listings
        int failFirstFileRequests = 0;  // answer this many file requests with 503 first
        qint64 dropAfterBytes = -1;     // the first longer file body is cut off (connection closed) here
        bool refuseFirstRange = false;  // answer the first ranged request with 416
        int pageSize = 0;               // >0: listings come in pages of this many entries with Link headers
    };

    explicit LocalHubServer(QObject* parent = nullptr);
    ~LocalHubServer() override;

    bool listen();
    quint16 port() const { return server_.serverPort(); }
    QString endpoint() const;  // "http://127.0.0.1:<port>"

    void addFile(const QString& repo, const QString& path, const QByteArray& content, bool lfs);
    QByteArray content(const QString& repo, const QString& path) const;
    Modes& modes() { return modes_; }

    const QList<Request>& requests() const { return requests_; }
    QList<Request> fileRequests() const;
    QList<Request> listingRequests() const;
    void clearRequests() { requests_.clear(); }

    // A port nothing listens on, for the "offline" case.
    static quint16 closedPort();
    // Deterministic random bytes.
    static QByteArray randomBytes(int size, quint32 seed);

private:
    void onNewConnection();
    void onReadable(QTcpSocket* socket);
    void handle(QTcpSocket* socket, const Request& request);
    void serveListing(QTcpSocket* socket, const QString& repo, const Request& request);
    void serveFile(QTcpSocket* socket, const QString& repo, const QString& path, const Request& request);
    void sendBody(QTcpSocket* socket, const QByteArray& head, const QByteArray& body, qint64 dropAfter);
    static void sendSimple(QTcpSocket* socket, int status, const QByteArray& extraHeaders = {},
                           const QByteArray& body = {});

    QTcpServer server_;
    Modes modes_;
    QHash<QString, QHash<QString, File>> repos_;  // repo → path → file
    QList<Request> requests_;
    QHash<QTcpSocket*, QByteArray> buffers_;
    int fileRequests_ = 0;
    bool dropped_ = false;
};

}  // namespace gd::test
