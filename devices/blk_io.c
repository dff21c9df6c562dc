/* The block backend's I/O engine: one io_uring per disk. Completions are
 * signalled on an eventfd that the event loop watches, so no thread ever
 * waits for the disk and vCPU threads never touch it. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blkback_internal.h"
#include "xenkvm/evloop.h"
#include "xenkvm/log.h"

struct blk_io {
	struct io_uring ring;
	struct evloop *loop;
	int efd;
	unsigned depth, in_flight; /* SQEs handed out and not yet completed */
	blk_io_done_fn done;
};

static void on_completions(int fd, uint32_t events, void *opaque)
{
	struct blk_io *io = opaque;
	struct io_uring_cqe *cqe;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("blkback: completion eventfd: %s", strerror(errno));
	while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
		void *tag = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&io->ring, cqe);
		io->in_flight--;
		io->done(tag, res);
	}
}

struct blk_io *blk_io_create(struct evloop *loop, unsigned depth, blk_io_done_fn done)
{
	struct blk_io *io = calloc(1, sizeof(*io));
	int rc;

	if (!io)
		return NULL;
	io->loop = loop;
	io->depth = depth;
	io->done = done;
	io->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = io_uring_queue_init(depth, &io->ring, 0);
	if (rc < 0 || io->efd < 0 || io_uring_register_eventfd(&io->ring, io->efd) < 0 ||
	    evloop_add(loop, io->efd, EPOLLIN, on_completions, io) < 0) {
		log_err("blkback: io_uring: %s", strerror(rc < 0 ? -rc : errno));
		if (rc == 0)
			io_uring_queue_exit(&io->ring);
		if (io->efd >= 0)
			close(io->efd);
		free(io);
		return NULL;
	}
	return io;
}

void blk_io_destroy(struct blk_io *io)
{
	if (!io)
		return;
	evloop_del(io->loop, io->efd);
	io_uring_queue_exit(&io->ring);
	close(io->efd);
	free(io);
}

unsigned blk_io_free_slots(struct blk_io *io)
{
	return io->depth - io->in_flight;
}

/* A free SQE, or NULL: at most depth SQEs are in flight so completions
 * never outrun the completion queue. */
static struct io_uring_sqe *get_sqe(struct blk_io *io, void *tag)
{
	struct io_uring_sqe *sqe;

	if (io->in_flight >= io->depth)
		return NULL;
	sqe = io_uring_get_sqe(&io->ring);
	if (!sqe) {
		io_uring_submit(&io->ring);
		sqe = io_uring_get_sqe(&io->ring);
	}
	if (sqe) {
		io->in_flight++;
		io_uring_sqe_set_data(sqe, tag);
	}
	return sqe;
}

int blk_io_readv(struct blk_io *io, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		 void *tag)
{
	struct io_uring_sqe *sqe = get_sqe(io, tag);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_readv(sqe, fd, iov, n, off);
	return 0;
}

int blk_io_writev(struct blk_io *io, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		  void *tag)
{
	struct io_uring_sqe *sqe = get_sqe(io, tag);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_writev(sqe, fd, iov, n, off);
	return 0;
}

int blk_io_fsync(struct blk_io *io, int fd, int drain, void *tag)
{
	struct io_uring_sqe *sqe = get_sqe(io, tag);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	if (drain)
		io_uring_sqe_set_flags(sqe, IOSQE_IO_DRAIN);
	return 0;
}

int blk_io_punch_hole(struct blk_io *io, int fd, uint64_t off, uint64_t len, void *tag)
{
	struct io_uring_sqe *sqe = get_sqe(io, tag);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	return 0;
}

void blk_io_submit(struct blk_io *io)
{
	int rc = io_uring_submit(&io->ring);

	if (rc < 0)
		log_warn("blkback: io_uring_submit: %s", strerror(-rc));
}

void blk_io_wait_all(struct blk_io *io)
{
	struct io_uring_cqe *cqe;

	io_uring_submit(&io->ring);
	while (io->in_flight) {
		void *tag;
		int res, rc = io_uring_wait_cqe(&io->ring, &cqe);

		/* A signal (a debugger, SIGSTOP/SIGCONT) interrupts the wait, not
		 * the I/O: giving up would tear the backend down under requests
		 * still in flight, their grants mapped and never answered. */
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			log_err("blkback: waiting for I/O: %s", strerror(-rc));
			break;
		}
		tag = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&io->ring, cqe);
		io->in_flight--;
		io->done(tag, res);
	}
}
