/* nop: the smallest static program, exec'd by forkexec. */
int main(void)
{
	return 0;
}
