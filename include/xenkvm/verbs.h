/* The xl-like verbs that talk to a running VM over its control socket. */
#ifndef XENKVM_VERBS_H
#define XENKVM_VERBS_H

/* argv[0] is the verb. Returns the process exit status, or -1 when argv[0]
 * is not a control verb. */
int verb_main(int argc, char **argv);
void verbs_usage(void);

#endif
