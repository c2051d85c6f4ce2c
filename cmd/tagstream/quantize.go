package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/internal/modelfile"
	"github.com/tagstream/tagstream/model"
)

func newQuantizeCmd() *cobra.Command {
	var in, out string
	cmd := &cobra.Command{
		Use:   "quantize --model IN --out OUT",
		Short: "Write a model with int8 weight matrices (about 3.6x smaller)",
		Long: `Read a classifier or tagger file and write it with every weight matrix of 1024 or more
elements as int8 with one bfloat16 scale per row (symmetric, no clipping); biases and other small
tensors stay float32. Every command that reads models (eval, predict, run, --config models.*)
loads the result unchanged: the weights are dequantized at load and inference runs in float32.
The checksum, and so the model version, changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Open(in)
			if err != nil {
				return fmt.Errorf("quantize: %w", err)
			}
			defer f.Close()
			var rep model.QuantizeReport
			err = modelfile.Write(out, func(w io.Writer) error {
				var err error
				rep, err = model.Quantize(bufio.NewReader(f), w)
				return err
			})
			if err != nil {
				return fmt.Errorf("quantize %s: %w", in, err)
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s, %d matrices to int8, %d tensors kept; %d -> %d bytes (%.2fx smaller); largest weight change %.2g\n",
				out, rep.Kind, rep.Matrices, rep.Kept, fi.Size(), st.Size(), float64(fi.Size())/float64(st.Size()), rep.MaxAbsErr)
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "model", "", "model file to quantize (required)")
	cmd.Flags().StringVar(&out, "out", "", "output model file (required)")
	_ = cmd.MarkFlagRequired("model")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
