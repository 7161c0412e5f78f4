"""Developer tools the running bot never imports: the SQL code generator/checker and the benchmark."""
