package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tagstream/tagstream/model"
	"github.com/tagstream/tagstream/model/dataset"
	"github.com/tagstream/tagstream/model/text"
)

func newGenerateCmd() *cobra.Command {
	var (
		path, prompt string
		opts         = model.GenerateOptions{Tokens: 20, Temperature: 0.8, TopK: 40, Seed: 1}
		samples      int
	)
	cmd := &cobra.Command{
		Use:   "generate --model LM --prompt TEXT",
		Short: "Sample continuations from a pretrained language model (a sanity check)",
		Long: `Continue --prompt with words sampled from the forward language model of a file written by
"tagstream pretrain". A quick check that the model learned something, not a product feature.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fmt.Errorf("generate: --model is required")
			}
			tok, err := text.New(text.DefaultOptions())
			if err != nil {
				return err
			}
			lm, err := loadLM(path, tok)
			if err != nil {
				return err
			}
			for i := 0; i < samples; i++ {
				o := opts
				o.Seed += uint64(i)
				fmt.Fprintf(cmd.OutOrStdout(), "%s | %s\n", prompt, dataset.JoinTokens(lm.Generate(prompt, o)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "model", "", "language model file (tagstream pretrain)")
	f.StringVar(&prompt, "prompt", "", "text to continue")
	f.IntVar(&opts.Tokens, "tokens", opts.Tokens, "tokens to add")
	f.Float64Var(&opts.Temperature, "temperature", opts.Temperature, "softmax temperature (lower is greedier)")
	f.IntVar(&opts.TopK, "top-k", opts.TopK, "sample among the k most likely words (0: all)")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "sampling seed")
	f.IntVar(&samples, "samples", 3, "continuations to print")
	return cmd
}
