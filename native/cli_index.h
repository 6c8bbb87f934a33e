/* cli_index.h - `ggufembed index ...` (cli_index.c); argv[0] is "index". */
#ifndef GE_CLI_INDEX_H
#define GE_CLI_INDEX_H
int ge_index_main(int argc, char **argv);
#endif
