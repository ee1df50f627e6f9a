/* The one main() every Check suite here has: run the suite, fail if any
 * test failed.  Use: CK_MAIN(task_suite) at the end of a test file. */
#ifndef HOSTK_TESTS_CK_MAIN_H
#define HOSTK_TESTS_CK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define CK_MAIN(suite_fn)						\
	int main(void)							\
	{								\
		SRunner *sr = srunner_create(suite_fn());		\
		int failed;						\
									\
		srunner_run_all(sr, CK_NORMAL);				\
		failed = srunner_ntests_failed(sr);			\
		srunner_free(sr);					\
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;		\
	}

#endif
