/* What every Check suite here shares: one TCase per test, named after it
 * (ADD_CASE(s, name) for START_TEST(test_name); ADD_CASE_X adds a statement
 * about the TCase tc_, such as a fixture or a timeout), and the one main():
 * run the suite, fail if any test failed (CK_MAIN(task_suite) at the end). */
#ifndef HOSTK_TESTS_CK_MAIN_H
#define HOSTK_TESTS_CK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define ADD_CASE_X(s, t, extra) do {			\
		TCase *tc_ = tcase_create(#t);		\
		extra;					\
		tcase_add_test(tc_, test_##t);		\
		suite_add_tcase(s, tc_);		\
	} while (0)
#define ADD_CASE(s, t) ADD_CASE_X(s, t, (void)tc_)

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
